import type { CallTransport } from '../call/call-context.js';

/**
 * Call lifecycle events, delivered through @nestjs/event-emitter: a module subscribes with
 * `@OnEvent(CallEvent.Ended)` (or `'call.*'` for all). Every payload names its own `event`, so
 * the same object can be forwarded as is (the events webhook, the SSE stream).
 */
export const CallEvent = {
  Started: 'call.started',
  Transcript: 'call.transcript',
  Tool: 'call.tool',
  Interrupted: 'call.interrupted',
  Dtmf: 'call.dtmf',
  Takeover: 'call.takeover',
  Handback: 'call.handback',
  Ended: 'call.ended',
} as const;

export type CallEventName = (typeof CallEvent)[keyof typeof CallEvent];

interface CallEventBase<E extends CallEventName> {
  event: E;
  /** Twilio's CallSid, or OpenAI's `rtc_...` call id for a SIP call. */
  callSid: string;
  /** The media stream's sid; a SIP call has no stream, and repeats its call id here. */
  streamSid: string;
  /** `media` (Twilio Media Streams) or `sip` (OpenAI SIP with a sideband). */
  transport?: CallTransport;
  /** ISO time the event happened. */
  at: string;
}

export interface CallStartedEvent extends CallEventBase<'call.started'> {
  from?: string;
  to?: string;
  profile?: string;
  customParameters: Record<string, string>;
}

/** A turn once its words are final, in the shape of `CallContext.transcript`'s turns. */
export interface CallTranscriptEvent extends CallEventBase<'call.transcript'> {
  role: 'caller' | 'assistant' | 'tool';
  text: string;
  /** An assistant turn the caller cut short: `text` is the part they heard. */
  interrupted?: boolean;
  /** A caller turn typed on the keypad. */
  keypad?: boolean;
  /** Caller speech the transcription could not make out (`text` is `[inaudible]`). */
  inaudible?: boolean;
}

export interface CallToolEvent extends CallEventBase<'call.tool'> {
  name: string;
  callId: string;
  arguments: unknown;
  output: string;
  ok: boolean;
  durationMs: number;
}

export interface CallInterruptedEvent extends CallEventBase<'call.interrupted'> {
  itemId: string;
  /** Where the item was cut: the ms of it the caller heard. */
  audioEndMs: number;
  /** What interrupted it: the caller's speech, a key press, or an operator taking the line. */
  by: 'speech' | 'keypad' | 'operator';
}

export interface CallDtmfEvent extends CallEventBase<'call.dtmf'> {
  digit: string;
  /**
   * Only on the events webhook, where a burst of key presses is delivered as one event: every
   * digit of the burst in order (`digit` is the first).
   */
  digits?: string;
}

/**
 * An operator took the line from the assistant (listen-in): from now until `call.handback` the
 * caller hears the operator, not the model.
 */
export interface CallTakeoverEvent extends CallEventBase<'call.takeover'> {
  /** `console:<id>` (a console session, by a digest of its id, never the id) or `api`. */
  operator: string;
}

/** The operator handed the line back: the model answers again from the caller's next turn. */
export interface CallHandbackEvent extends CallEventBase<'call.handback'> {
  operator: string;
  /** The operator's note, told to the model with the handback. */
  note?: string;
  /** When the takeover began (ISO). */
  takenAt: string;
}

/** One takeover in the call record: who held the line, from when to when. */
export interface CallTakeoverRecord {
  operator: string;
  takenAt: string;
  /** Absent when the call ended while the operator still held the line. */
  handedBackAt?: string;
  note?: string;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** The split `response.done` reports (`input_token_details`, `output_token_details`): what a call costs. */
  inputAudioTokens: number;
  inputTextTokens: number;
  /** Of the input tokens, those served from the cache (priced lower). */
  inputCachedTokens: number;
  outputAudioTokens: number;
  outputTextTokens: number;
}

/** A tool call as the call record keeps it (`call.tool`'s fields, `ms` its duration). */
export interface CallToolSummary {
  name: string;
  arguments: unknown;
  output: string;
  ok: boolean;
  ms: number;
}

export interface CallEndedEvent extends CallEventBase<'call.ended'> {
  /** `inbound`, or `outbound` (placed through the API). */
  direction: 'inbound' | 'outbound';
  from?: string;
  to?: string;
  profile?: string;
  /** ISO times the call started and ended (`endedAt` is `at`). */
  startedAt: string;
  endedAt: string;
  /** The Realtime model the call ran on (what its usage is priced by). */
  model?: string;
  reason: string;
  /**
   * completed | transferred | timeout | failed | refused | shutdown; `lost` for a call whose
   * process died under it (found by the history: only in its records and on the events webhook)
   */
  outcome: string;
  durationS: number;
  latency: {
    /** Call start to the first assistant audio sent to the caller. */
    firstAudioMs?: number;
    /** Caller stops speaking to the first audio of the answer, over the call's turns. */
    responseAvgMs?: number;
    responseMaxMs?: number;
    /**
     * Caller starts speaking (or presses a key) to Twilio confirming the `clear` (echoing the
     * marks it flushed): how long the assistant talked over the caller.
     */
    bargeInReactionAvgMs?: number;
  };
  turns: { caller: number; assistant: number };
  /**
   * Turns said before `transcript`'s first and not kept in it: a call remembers its newest
   * MAX_REMEMBERED_ITEMS items (400). 0 for most calls; `turns` counts the kept ones.
   */
  turnsOmitted: number;
  /** The conversation as the caller lived it, in order (the same turns as `call.transcript`). */
  transcript: Array<Omit<CallTranscriptEvent, 'event' | 'callSid' | 'streamSid'>>;
  /** The tool calls, in order (at most MAX_RECORDED_TOOL_CALLS: the first ones). */
  tools: CallToolSummary[];
  interruptions: number;
  /** Every time an operator took the line, in order (empty when none did). */
  takeovers: CallTakeoverRecord[];
  reconnects: number;
  usage: TokenUsage;
  frames: { in: number; out: number; dropped: number };
}

export type AnyCallEvent =
  | CallStartedEvent
  | CallTranscriptEvent
  | CallToolEvent
  | CallInterruptedEvent
  | CallDtmfEvent
  | CallTakeoverEvent
  | CallHandbackEvent
  | CallEndedEvent;
