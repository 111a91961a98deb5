import { SILENCE_DBFS } from '../audio/audio-level.js';
import type { CallRegistry } from '../call/call-registry.service.js';
import type { AnyCallEvent, CallEndedEvent } from '../events/call-events.js';
import { truncateText } from '../text/text-bound.js';
import {
  rowBase,
  statsOf,
  directionOf,
  type CallDetail,
  type ConsoleCallRow,
  type TimelineEntry,
} from './console-call.views.js';
import { MAX_ENTRY_TEXT, MAX_TIMELINE_ENTRIES, RECENT_CALLS } from './console.constants.js';

interface CallView {
  call: Omit<ConsoleCallRow, 'state'>;
  entries: TimelineEntry[];
  droppedEntries: number;
  interruptedItems: Set<string>;
}

/** What a call event changed, for the console's live streams to pass on. */
export type TimelineChange =
  | { kind: 'started' }
  | { kind: 'entry'; entry: TimelineEntry }
  | { kind: 'ended'; record: CallEndedEvent };

const clip = (text: string) => truncateText(text, MAX_ENTRY_TEXT);

/**
 * Each live call's timeline, built from its call.* events, and the last RECENT_CALLS finished
 * calls of this instance with their timelines and records.
 */
export class CallTimelines {
  private readonly views = new Map<string, CallView>();
  /** Finished calls, newest first. */
  readonly recent: CallDetail[] = [];

  constructor(private readonly registry: CallRegistry) {}

  /** Whether `callSid` is live here or among the recently finished (without building its detail). */
  has(callSid: string): boolean {
    return (
      this.registry.get(callSid) !== undefined ||
      this.recent.some((c) => c.call.callSid === callSid)
    );
  }

  /** A live or recently finished call; undefined when it is neither. */
  detail(callSid: string): CallDetail | undefined {
    const session = this.registry.get(callSid);
    const view = this.views.get(callSid);
    if (session) {
      const base = view?.call ?? rowBase(session);
      const stats = statsOf(session, { caller: SILENCE_DBFS, assistant: SILENCE_DBFS });
      return {
        call: { ...base, state: stats.state },
        entries: [...(view?.entries ?? [])],
        droppedEntries: view?.droppedEntries ?? 0,
        stats,
      };
    }
    return this.recent.find((call) => call.call.callSid === callSid);
  }

  /** Records `event` in its call's timeline; says what changed, if anything did. */
  apply(event: AnyCallEvent): TimelineChange | undefined {
    if (event.event === 'call.started') {
      const session = this.registry.get(event.callSid);
      this.views.set(event.callSid, {
        call: session
          ? rowBase(session)
          : {
              callSid: event.callSid,
              from: event.from,
              to: event.to,
              profile: event.profile,
              direction: directionOf(event.customParameters),
              startedAt: event.at,
            },
        entries: [],
        droppedEntries: 0,
        interruptedItems: new Set(),
      });
      return { kind: 'started' };
    }
    const view = this.views.get(event.callSid);
    if (!view) return undefined;
    if (event.event === 'call.ended') {
      this.finish(event, view);
      return { kind: 'ended', record: event };
    }
    const entry = this.entryFor(event, view);
    if (!entry) return undefined;
    view.entries.push(entry);
    if (view.entries.length > MAX_TIMELINE_ENTRIES) {
      view.entries.shift();
      view.droppedEntries++;
    }
    return { kind: 'entry', entry };
  }

  private entryFor(event: AnyCallEvent, view: CallView): TimelineEntry | undefined {
    const session = this.registry.get(event.callSid);
    switch (event.event) {
      case 'call.transcript': {
        // Tool calls show as their own entries (call.tool).
        if (event.role === 'tool') return undefined;
        // The session's hook has just seen this transcript's event, so the activity knows
        // which item it belongs to; the caller may already have cut that item short.
        const itemId =
          event.role === 'assistant' ? session?.activity.lastAssistantItemId : undefined;
        return {
          at: event.at,
          kind: 'turn',
          role: event.role,
          text: clip(event.text),
          ...(itemId ? { itemId, interrupted: view.interruptedItems.has(itemId) } : {}),
        };
      }
      case 'call.tool':
        session?.activity.toolFinished(event.callId);
        return {
          at: event.at,
          kind: 'tool',
          name: event.name,
          callId: event.callId,
          arguments: clip(JSON.stringify(event.arguments ?? null)),
          output: clip(event.output),
          ok: event.ok,
          durationMs: event.durationMs,
        };
      case 'call.dtmf':
        return { at: event.at, kind: 'dtmf', digit: event.digit };
      case 'call.interrupted': {
        view.interruptedItems.add(event.itemId);
        // The transcript of the cut item often arrives before the barge-in: mark it too.
        for (let i = view.entries.length - 1; i >= 0; i--) {
          const entry = view.entries[i];
          if (entry.kind === 'turn' && entry.itemId === event.itemId) entry.interrupted = true;
        }
        return {
          at: event.at,
          kind: 'interruption',
          itemId: event.itemId,
          audioEndMs: event.audioEndMs,
          ...(event.by === 'operator' ? { by: 'operator' as const } : {}),
        };
      }
      case 'call.takeover':
        return { at: event.at, kind: 'operator', action: 'takeover', operator: event.operator };
      case 'call.handback':
        return {
          at: event.at,
          kind: 'operator',
          action: 'handback',
          operator: event.operator,
          ...(event.note ? { note: clip(event.note) } : {}),
        };
      case 'call.started':
      case 'call.ended':
        return undefined;
    }
  }

  /** An erased call (history erasure) is no longer among the recently finished. */
  forget(callSid: string): void {
    const at = this.recent.findIndex((call) => call.call.callSid === callSid);
    if (at >= 0) this.recent.splice(at, 1);
  }

  private finish(record: CallEndedEvent, view: CallView): void {
    this.views.delete(record.callSid);
    this.recent.unshift({
      call: { ...view.call, state: 'ended' },
      entries: view.entries,
      droppedEntries: view.droppedEntries,
      record,
    });
    if (this.recent.length > RECENT_CALLS) this.recent.pop();
  }
}
