import {
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  type OnModuleDestroy,
} from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { CallActivityState, CallLevels } from '../call/call-activity.js';
import { CallRegistry } from '../call/call-registry.service.js';
import type { LiveCall } from '../call/call-registry.service.js';
import { CallDirectory, type CallRecordEntry } from '../directory/call-directory.js';
import type { LiveCall as DirectoryCall } from '../directory/call-directory.js';
import type { AnyCallEvent, CallEndedEvent, TokenUsage } from '../events/call-events.js';
import { SILENCE_DBFS } from '../audio/audio-level.js';
import { truncateText } from '../text/text-bound.js';
import {
  MAX_ENTRY_TEXT,
  MAX_LIVE_FOLLOWERS,
  MAX_TIMELINE_ENTRIES,
  RECENT_CALLS,
  SAMPLE_INTERVAL_MS,
} from './console.constants.js';
import { SseFollowerLimits } from '../http/sse-follower-limits.js';
import { sseFrame, type SseStream } from '../http/sse-stream.js';

/** One row of the live calls table. */
export interface ConsoleCallRow {
  callSid: string;
  from?: string;
  to?: string;
  direction: 'inbound' | 'outbound';
  profile?: string;
  startedAt: string;
  /** `remote`: a live call another instance of the cluster carries (its detail is there). */
  state: CallActivityState | 'ended' | 'remote';
  /** The owning instance, in cluster mode. */
  instance?: string;
  /** How the call reaches the bridge (e.g. media stream, SIP), when the bridge says. */
  transport?: string;
}

/** What happened in a call, in order: the transcript with tools, key presses and barge-ins. */
export type TimelineEntry = { at: string } & (
  | {
      kind: 'turn';
      role: 'caller' | 'assistant';
      text: string;
      itemId?: string;
      interrupted?: boolean;
    }
  | {
      kind: 'tool';
      name: string;
      callId: string;
      arguments: string;
      output: string;
      ok: boolean;
      durationMs: number;
    }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'interruption'; itemId: string; audioEndMs: number }
);

/** A live call's figures, sampled a few times a second while a console page watches it. */
export interface LiveCallStats {
  state: CallActivityState;
  levels: CallLevels;
  durationS: number;
  firstAudioMs?: number;
  responseLatencyMs: number[];
  pendingTools: number;
  bargeIns: number;
  reconnects: number;
  usage: TokenUsage;
  frames: { in: number; out: number; dropped: number };
}

export interface CallDetail {
  call: ConsoleCallRow;
  entries: TimelineEntry[];
  /** Entries dropped from the front to stay within MAX_TIMELINE_ENTRIES. */
  droppedEntries: number;
  stats?: LiveCallStats;
  /** The call record, once the call has ended. */
  record?: CallEndedEvent;
}

/** A finished call in the "Recent calls" table (its detail holds the timeline). */
export interface RecentCallSummary {
  call: ConsoleCallRow;
  endedAt: string;
  durationS: number;
  outcome: string;
  reason: string;
  turns: { caller: number; assistant: number };
  interruptions: number;
  totalTokens: number;
}

interface CallView {
  call: Omit<ConsoleCallRow, 'state'>;
  entries: TimelineEntry[];
  droppedEntries: number;
  interruptedItems: Set<string>;
}

const clip = (text: string) => truncateText(text, MAX_ENTRY_TEXT);

/**
 * What the console shows about calls, kept as calls happen: each live call's timeline (from the
 * call.* events), its live figures (sampled from the session while someone watches), and the
 * last RECENT_CALLS finished calls with their records. It also fans the live data out to the
 * console's event streams, at most MAX_LIVE_FOLLOWERS of them, sampling only while one is open.
 */
@Injectable()
export class CallMonitor implements OnModuleDestroy {
  private readonly views = new Map<string, CallView>();
  /** Finished calls, newest first. */
  private readonly recent: CallDetail[] = [];
  private readonly listFollowers = new Set<SseStream>();
  private readonly callFollowers = new Map<string, Set<SseStream>>();
  private readonly followers = new SseFollowerLimits(MAX_LIVE_FOLLOWERS);
  private sampler?: NodeJS.Timeout;
  private lastRowsJson = '';

  constructor(
    private readonly registry: CallRegistry,
    private readonly directory: CallDirectory,
  ) {}

  onModuleDestroy(): void {
    clearInterval(this.sampler);
    const streams = [...this.listFollowers];
    for (const followers of this.callFollowers.values()) streams.push(...followers);
    for (const stream of streams) stream.close();
  }

  // --- what the routes read ------------------------------------------------------------

  /**
   * Every live call of the cluster (the directory), with this instance's own calls in detail
   * (their state from the session); the others show as `remote`. Without the shared store (or
   * when it fails), this instance's calls only.
   */
  async liveCalls(): Promise<ConsoleCallRow[]> {
    const now = Date.now();
    const cluster = this.clusterMode;
    const rows: ConsoleCallRow[] = this.registry.all().map((session) => ({
      ...this.rowBase(session),
      ...(cluster ? { instance: this.directory.instanceId } : {}),
      state: session.activity.status(now).state,
    }));
    const local = new Set(rows.map((row) => row.callSid));
    for (const entry of await this.directoryCalls()) {
      // A call of this instance that is no longer in the registry has just ended.
      if (local.has(entry.callSid) || entry.instance === this.directory.instanceId) continue;
      rows.push(remoteRow(entry, cluster));
    }
    return rows.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /**
   * The last RECENT_CALLS finished calls, newest first: this instance's (with their timelines)
   * and the cluster's records (the directory's; Redis in cluster mode).
   */
  async recentCalls(): Promise<RecentCallSummary[]> {
    const rows = this.recent.map(({ call, record }) => summaryOf(call, record!));
    const seen = new Set(rows.map((row) => row.call.callSid));
    for (const record of await this.directoryRecords()) {
      if (seen.has(record.callSid)) continue;
      seen.add(record.callSid);
      const ended = record as unknown as CallEndedEvent & CallRecordEntry;
      rows.push(summaryOf(recordRow(ended, this.clusterMode), ended));
    }
    return rows.sort((a, b) => b.endedAt.localeCompare(a.endedAt)).slice(0, RECENT_CALLS);
  }

  /** A call another instance carried, from its record in the directory; undefined otherwise. */
  async recordDetail(callSid: string): Promise<CallDetail | undefined> {
    const record = (await this.directoryRecords()).find((r) => r.callSid === callSid);
    if (!record) return undefined;
    const ended = record as unknown as CallEndedEvent & CallRecordEntry;
    return {
      call: recordRow(ended, this.clusterMode),
      entries: [],
      droppedEntries: 0,
      record: ended,
    };
  }

  private get clusterMode(): boolean {
    return this.directory.health().mode === 'redis';
  }

  private async directoryCalls(): Promise<DirectoryCall[]> {
    try {
      return await this.directory.list();
    } catch {
      return [];
    }
  }

  private async directoryRecords(): Promise<CallRecordEntry[]> {
    try {
      return await this.directory.recentRecords(RECENT_CALLS);
    } catch {
      return [];
    }
  }

  /** A live or recently finished call; undefined when it is neither. */
  detail(callSid: string): CallDetail | undefined {
    const session = this.registry.get(callSid);
    const view = this.views.get(callSid);
    if (session) {
      const base = view?.call ?? this.rowBase(session);
      const stats = this.statsOf(session, { caller: SILENCE_DBFS, assistant: SILENCE_DBFS });
      return {
        call: { ...base, state: stats.state },
        entries: [...(view?.entries ?? [])],
        droppedEntries: view?.droppedEntries ?? 0,
        stats,
      };
    }
    return this.recent.find((call) => call.call.callSid === callSid);
  }

  // --- live streams --------------------------------------------------------------------

  /** Throws 503 when the console already has MAX_LIVE_FOLLOWERS streams open. */
  assertFollowerRoom(): void {
    if (this.followers.refusal()) {
      throw new ServiceUnavailableException(
        `the console already has ${MAX_LIVE_FOLLOWERS} live streams open`,
      );
    }
  }

  /** The calls table: a snapshot now, then a new one whenever a row changes. */
  followCalls(stream: SseStream): void {
    this.addFollower(stream, () => this.listFollowers.delete(stream));
    void this.liveCalls().then((calls) => {
      // Bring the others up to date first, so the sampler does not resend this same table.
      this.sendRows(calls);
      if (stream.isClosed) return;
      stream.send('calls', { calls });
      this.listFollowers.add(stream);
    });
  }

  /** One call: its detail now, then entries as they happen and figures a few times a second. */
  followCall(callSid: string, stream: SseStream): void {
    const detail = this.detail(callSid);
    if (!detail) throw new NotFoundException(`no live or recent call ${callSid}`);
    stream.send('snapshot', detail);
    const session = this.registry.get(callSid);
    if (!session) {
      stream.send('ended', detail.record);
      stream.close();
      return;
    }
    let set = this.callFollowers.get(callSid);
    if (!set) this.callFollowers.set(callSid, (set = new Set()));
    set.add(stream);
    session.activity.metering = true;
    this.addFollower(stream, () => {
      const followers = this.callFollowers.get(callSid);
      followers?.delete(stream);
      if (followers?.size === 0) {
        this.callFollowers.delete(callSid);
        const live = this.registry.get(callSid);
        if (live) live.activity.metering = false;
      }
    });
  }

  private addFollower(stream: SseStream, remove: () => void): void {
    this.followers.track(stream);
    stream.onClose(() => {
      remove();
      if (this.followers.size === 0) {
        clearInterval(this.sampler);
        this.sampler = undefined;
      }
    });
    this.sampler ??= setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.sampler.unref();
  }

  private sample(): void {
    if (this.listFollowers.size > 0) this.pushRows();
    const now = Date.now();
    for (const [callSid, streams] of this.callFollowers) {
      const session = this.registry.get(callSid);
      if (!session) continue;
      const frame = sseFrame('stats', this.statsOf(session, session.activity.readLevels(now), now));
      for (const stream of streams) stream.sendFrame(frame);
    }
  }

  private pushRows(): void {
    void this.liveCalls().then((calls) => this.sendRows(calls));
  }

  private sendRows(calls: ConsoleCallRow[]): void {
    const json = JSON.stringify(calls);
    if (json === this.lastRowsJson) return;
    this.lastRowsJson = json;
    const frame = sseFrame('calls', { calls });
    for (const stream of this.listFollowers) stream.sendFrame(frame);
  }

  // --- call events ---------------------------------------------------------------------

  @OnEvent('call.*')
  onCallEvent(event: AnyCallEvent): void {
    if (event.event === 'call.started') {
      const session = this.registry.get(event.callSid);
      this.views.set(event.callSid, {
        call: session
          ? this.rowBase(session)
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
      if (this.listFollowers.size > 0) this.pushRows();
      return;
    }
    const view = this.views.get(event.callSid);
    if (!view) return;
    if (event.event === 'call.ended') {
      this.finish(event, view);
      return;
    }
    const entry = this.entryFor(event, view);
    if (!entry) return;
    view.entries.push(entry);
    if (view.entries.length > MAX_TIMELINE_ENTRIES) {
      view.entries.shift();
      view.droppedEntries++;
    }
    const frame = sseFrame('entry', entry);
    for (const stream of this.callFollowers.get(event.callSid) ?? []) stream.sendFrame(frame);
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
        };
      }
      case 'call.started':
      case 'call.ended':
        return undefined;
    }
  }

  private finish(record: CallEndedEvent, view: CallView): void {
    this.views.delete(record.callSid);
    const detail: CallDetail = {
      call: { ...view.call, state: 'ended' },
      entries: view.entries,
      droppedEntries: view.droppedEntries,
      record,
    };
    this.recent.unshift(detail);
    if (this.recent.length > RECENT_CALLS) this.recent.pop();
    for (const stream of this.callFollowers.get(record.callSid) ?? []) {
      stream.send('ended', record);
      stream.close();
    }
    if (this.listFollowers.size > 0) this.pushRows();
  }

  // --- helpers -------------------------------------------------------------------------

  private rowBase(session: LiveCall): Omit<ConsoleCallRow, 'state'> {
    const { context } = session;
    // Cluster mode may name the owner on the context.
    const extra = context as unknown as { instance?: unknown };
    return {
      callSid: context.callSid,
      from: context.from,
      to: context.to,
      direction: directionOf(context.customParameters),
      profile: context.profile,
      startedAt: context.startedAt.toISOString(),
      ...(typeof extra.instance === 'string' ? { instance: extra.instance } : {}),
      transport: context.transport,
    };
  }

  private statsOf(session: LiveCall, levels: CallLevels, now = Date.now()): LiveCallStats {
    const status = session.activity.status(now);
    return {
      ...status,
      levels,
      durationS: Math.round((now - session.context.startedAt.getTime()) / 100) / 10,
      bargeIns: session.stats.bargeIns,
      reconnects: session.stats.reconnects ?? 0,
      usage: { ...session.usage },
      frames: {
        in: session.stats.framesIn,
        out: session.stats.framesOut,
        dropped: session.stats.framesDropped,
      },
    };
  }
}

function summaryOf(call: ConsoleCallRow, record: CallEndedEvent): RecentCallSummary {
  return {
    call,
    endedAt: record.at,
    durationS: record.durationS,
    outcome: record.outcome,
    reason: record.reason,
    turns: record.turns,
    interruptions: record.interruptions,
    totalTokens: record.usage?.totalTokens ?? 0,
  };
}

/** A live call of another instance, as the directory lists it. */
function remoteRow(entry: DirectoryCall, cluster: boolean): ConsoleCallRow {
  return {
    callSid: entry.callSid,
    from: entry.from,
    to: entry.to,
    direction: entry.direction,
    profile: entry.profile,
    startedAt: entry.startedAt,
    state: 'remote',
    ...(cluster ? { instance: entry.instance } : {}),
    ...(entry.transport ? { transport: entry.transport } : {}),
  };
}

/** A finished call known only from its record (the `call.ended` payload and its instance). */
function recordRow(record: CallEndedEvent & CallRecordEntry, cluster: boolean): ConsoleCallRow {
  const endedAt = Date.parse(record.at);
  return {
    callSid: record.callSid,
    direction: 'inbound',
    startedAt: new Date(endedAt - (record.durationS ?? 0) * 1000).toISOString(),
    state: 'ended',
    ...(cluster ? { instance: record.instance } : {}),
    ...(record.transport ? { transport: record.transport } : {}),
  };
}

/** Twilio's webhook says `inbound`, `outbound-api` or `outbound-dial`. */
function directionOf(parameters: Readonly<Record<string, string>>): 'inbound' | 'outbound' {
  return parameters.Direction?.startsWith('outbound') ? 'outbound' : 'inbound';
}
