import { directionOf } from '../call/call-direction.js';
import { emptyTokenUsage } from '../call/token-usage.js';
import {
  CallEvent,
  type CallEndedEvent,
  type CallStartedEvent,
  type CallToolSummary,
  type CallTranscriptEvent,
  type TokenUsage,
} from '../events/call-events.js';
import type { ModelPrice, PriceTable } from '../config/history-env.js';
import type { RecordingSummary } from '../recording/call-recording.js';

// A call's recording as the record shows it: the recordings module says what it wrote.
export type { RecordingSummary };

/** A transcript turn as heard, `atMs` after the call started. */
export interface HistoryTurn {
  role: 'caller' | 'assistant' | 'tool';
  text: string;
  atMs: number;
  interrupted?: boolean;
  keypad?: boolean;
  inaudible?: boolean;
}

/** One ended call in `GET /api/history`: `call.ended`'s vocabulary, plus cost and recording. */
export interface HistoryCall {
  callSid: string;
  transport: string;
  direction: string;
  from: string | null;
  to: string | null;
  profile: string | null;
  startedAt: string;
  endedAt: string;
  reason: string;
  outcome: string;
  durationS: number;
  interruptions: number;
  reconnects: number;
  turns: CallEndedEvent['turns'];
  /** Turns said before the transcript's first and not kept (CallEndedEvent.turnsOmitted). */
  turnsOmitted: number;
  usage: TokenUsage;
  latency: CallEndedEvent['latency'];
  frames: CallEndedEvent['frames'];
  model: string | null;
  costUsd: number | null;
  recording: RecordingSummary | null;
}

/** `GET /api/history/:callSid`: the call, what was heard, and its tool calls. */
export interface HistoryCallDetail extends HistoryCall {
  transcript: HistoryTurn[];
  tools: CallToolSummary[];
}

/** The figures kept as one JSON column (CallsTable.figures). */
export type HistoryFigures = Pick<
  HistoryCall,
  'reconnects' | 'turns' | 'turnsOmitted' | 'usage' | 'latency' | 'frames' | 'model'
>;

/** The record of a call, from its `call.ended` event. */
export function recordOf(event: CallEndedEvent, prices: PriceTable): HistoryCallDetail {
  const started = Date.parse(event.startedAt);
  return {
    callSid: event.callSid,
    transport: event.transport ?? 'media',
    direction: event.direction,
    from: event.from ?? null,
    to: event.to ?? null,
    profile: event.profile ?? null,
    startedAt: event.startedAt,
    endedAt: event.endedAt,
    reason: event.reason,
    outcome: event.outcome,
    durationS: event.durationS,
    interruptions: event.interruptions,
    reconnects: event.reconnects,
    turns: event.turns,
    turnsOmitted: event.turnsOmitted,
    usage: event.usage,
    latency: event.latency,
    frames: event.frames,
    model: event.model ?? null,
    costUsd: costOf(event.usage, event.model ? prices[event.model] : undefined),
    recording: null,
    transcript: event.transcript.map((turn) => historyTurnOf(turn, started)),
    tools: event.tools,
  };
}

/** A turn as the events say it (`at`, ISO), as the history keeps it (`atMs` after the start). */
export type EventTurn = Omit<CallTranscriptEvent, 'event' | 'callSid' | 'streamSid'>;

export function historyTurnOf(turn: EventTurn, startedMs: number): HistoryTurn {
  return {
    role: turn.role,
    text: turn.text,
    atMs: Math.max(0, Date.parse(turn.at) - startedMs),
    ...(turn.interrupted ? { interrupted: true } : {}),
    ...(turn.keypad ? { keypad: true } : {}),
    ...(turn.inaudible ? { inaudible: true } : {}),
  };
}

function eventTurnOf(turn: HistoryTurn, startedMs: number): EventTurn {
  const { atMs, ...said } = turn;
  return { ...said, at: new Date(startedMs + atMs).toISOString() };
}

/** How a call began: what its record says before it ends. */
export type CallStart = Pick<
  HistoryCall,
  'callSid' | 'transport' | 'direction' | 'from' | 'to' | 'profile' | 'startedAt'
>;

/** A call under way, as the history keeps it until its record replaces it. */
export interface OpenCall extends CallStart {
  /** `INSTANCE_ID/boot` of the process that carries it. */
  owner: string;
  /** Its media stream's sid (a SIP call repeats its call id); null if an older version wrote it. */
  streamSid: string | null;
}

/** An open call whose process stopped without ending it, and when that process was last seen. */
export interface LostCall extends OpenCall {
  seenAt: string;
  /** The turns its process wrote while the call ran (OpenCallTurns): all but the last seconds. */
  transcript: HistoryTurn[];
  /**
   * Its process was certainly gone: an earlier process of this instance (the same INSTANCE_ID,
   * unique among live instances), or the embedded database's only other user. Otherwise it was
   * only not seen for a while, which a process cut off from the database also is.
   */
  predecessor: boolean;
}

/** The INSTANCE_ID of an owner (`INSTANCE_ID/boot`). */
export function instanceOfOwner(owner: string): string {
  return owner.slice(0, owner.lastIndexOf('/'));
}

/** The outcome of a call whose process stopped without ending it. */
export const LOST_OUTCOME = 'lost';

export function openCallOf(event: CallStartedEvent, owner: string): OpenCall {
  return {
    callSid: event.callSid,
    owner,
    streamSid: event.streamSid,
    transport: event.transport ?? 'media',
    direction: directionOf(event.customParameters),
    from: event.from ?? null,
    to: event.to ?? null,
    profile: event.profile ?? null,
    startedAt: event.at,
  };
}

/**
 * The record of a lost call: what was known when it started, the turns written while it ran,
 * ended when its process was last seen alive. Its last seconds of words, its tool calls, tokens
 * and cost died with the process: the cost is unknown (null), never a false zero.
 */
export function lostRecordOf(call: LostCall): HistoryCallDetail {
  const instance = instanceOfOwner(call.owner);
  const durationMs = Math.max(0, Date.parse(call.seenAt) - Date.parse(call.startedAt));
  const count = (which: (turn: HistoryTurn) => boolean) => call.transcript.filter(which).length;
  return {
    callSid: call.callSid,
    transport: call.transport,
    direction: call.direction,
    from: call.from,
    to: call.to,
    profile: call.profile,
    startedAt: call.startedAt,
    endedAt: call.seenAt,
    reason: `its instance ${instance} stopped without ending the call (killed, out of memory or lost); last seen then`,
    outcome: LOST_OUTCOME,
    durationS: Math.round(durationMs / 100) / 10,
    interruptions: count((turn) => turn.interrupted === true),
    reconnects: 0,
    turns: {
      caller: count((turn) => turn.role === 'caller'),
      assistant: count((turn) => turn.role === 'assistant'),
    },
    // What a lost call lacks is its end (the turns after MAX_OPEN_CALL_TURNS and its last
    // seconds), never its beginning.
    turnsOmitted: 0,
    usage: emptyTokenUsage(),
    latency: {},
    frames: { in: 0, out: 0, dropped: 0 },
    model: null,
    costUsd: null,
    recording: null,
    transcript: call.transcript,
    tools: [],
  };
}

/**
 * The `call.ended` the events webhook delivers for a lost call, found lost `at`: its `lost`
 * record in the event's vocabulary, so that a receiver which saw the call start sees it end.
 * `endedAt` is when its process was last seen alive.
 */
export function lostCallEndedEvent(call: LostCall, at: string): CallEndedEvent {
  const record = lostRecordOf(call);
  return {
    event: CallEvent.Ended,
    callSid: call.callSid,
    // Empty (unknown) only for a row an older version wrote, which kept no stream sid.
    streamSid: call.streamSid ?? '',
    transport: call.transport === 'sip' ? 'sip' : 'media',
    at,
    direction: call.direction === 'outbound' ? 'outbound' : 'inbound',
    ...(call.from === null ? {} : { from: call.from }),
    ...(call.to === null ? {} : { to: call.to }),
    ...(call.profile === null ? {} : { profile: call.profile }),
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    reason: record.reason,
    outcome: record.outcome,
    durationS: record.durationS,
    latency: record.latency,
    turns: record.turns,
    turnsOmitted: record.turnsOmitted,
    transcript: call.transcript.map((turn) => eventTurnOf(turn, Date.parse(call.startedAt))),
    tools: [],
    interruptions: record.interruptions,
    takeovers: [],
    reconnects: record.reconnects,
    usage: record.usage,
    frames: record.frames,
  };
}

/**
 * USD for a call's tokens at the model's price, rounded to a millionth of a dollar; null when
 * the model is not in the price table. Cached input tokens (whose kind the totals do not say)
 * are taken off the cheaper text input first: the cost is never under-stated.
 */
export function costOf(usage: TokenUsage, price: ModelPrice | undefined): number | null {
  if (!price) return null;
  const cachedRate = price.cachedInput;
  const cached = cachedRate === undefined ? 0 : usage.inputCachedTokens;
  const cachedText = Math.min(cached, usage.inputTextTokens);
  const cachedAudio = Math.min(cached - cachedText, usage.inputAudioTokens);
  const perMillion =
    (usage.inputAudioTokens - cachedAudio) * price.audioInput +
    (usage.inputTextTokens - cachedText) * price.textInput +
    (cachedText + cachedAudio) * (cachedRate ?? 0) +
    usage.outputAudioTokens * price.audioOutput +
    usage.outputTextTokens * price.textOutput;
  return Math.round(perMillion) / 1_000_000;
}
