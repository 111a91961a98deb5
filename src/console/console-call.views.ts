import type { CallActivityState, CallLevels } from '../call/call-activity.js';
import type { LiveCall } from '../call/call-registry.service.js';
import type { CallRecordEntry, LiveCall as DirectoryCall } from '../directory/call-directory.js';
import type { CallEndedEvent, TokenUsage } from '../events/call-events.js';
import { directionOf } from '../call/call-direction.js';

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
  | { kind: 'interruption'; itemId: string; audioEndMs: number; by?: 'operator' }
  | { kind: 'operator'; action: 'takeover' | 'handback'; operator: string; note?: string }
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
  /** Entries were left out to fit one event: the JSON route has them all (the page asks it). */
  truncated?: boolean;
}

/**
 * A call's detail within one server-sent event of `maxBytes`: a long call's oldest entries are
 * left out (counted in `droppedEntries`, and the detail marked `truncated`), so a reader still
 * gets the call and its newest turns instead of a stub cut to its short fields. The JSON route
 * gives the whole timeline, and the console's page asks it for a truncated one.
 */
export function detailWithin(detail: CallDetail, maxBytes: number): CallDetail {
  const all = detail.entries;
  const keeping = (kept: number): CallDetail => ({
    ...detail,
    entries: all.slice(all.length - kept),
    droppedEntries: detail.droppedEntries + all.length - kept,
    truncated: true,
  });
  const fits = (kept: number) => Buffer.byteLength(JSON.stringify(keeping(kept))) <= maxBytes;
  if (fits(all.length)) return detail;
  // The most entries that fit, by bisection: a few encodings of one detail, once per follower.
  let low = 0;
  let high = all.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return keeping(low);
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

/** A call of this instance as the calls table shows it, but for its state. */
export function rowBase(session: LiveCall): Omit<ConsoleCallRow, 'state'> {
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

/** A live call's figures now, with the audio levels the caller has read. */
export function statsOf(session: LiveCall, levels: CallLevels, now = Date.now()): LiveCallStats {
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

export function summaryOf(call: ConsoleCallRow, record: CallEndedEvent): RecentCallSummary {
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
export function remoteRow(entry: DirectoryCall, cluster: boolean): ConsoleCallRow {
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
export function recordRow(
  record: CallEndedEvent & CallRecordEntry,
  cluster: boolean,
): ConsoleCallRow {
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

export { directionOf };
