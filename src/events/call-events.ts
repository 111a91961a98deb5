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
  Ended: 'call.ended',
} as const;

export type CallEventName = (typeof CallEvent)[keyof typeof CallEvent];

interface CallEventBase<E extends CallEventName> {
  event: E;
  callSid: string;
  streamSid: string;
  /** ISO time the event happened. */
  at: string;
}

export interface CallStartedEvent extends CallEventBase<'call.started'> {
  from?: string;
  to?: string;
  profile?: string;
  customParameters: Record<string, string>;
}

export interface CallTranscriptEvent extends CallEventBase<'call.transcript'> {
  role: 'caller' | 'assistant';
  text: string;
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
  audioEndMs: number;
}

export interface CallDtmfEvent extends CallEventBase<'call.dtmf'> {
  digit: string;
  /**
   * Only on the events webhook, where a burst of key presses is delivered as one event: every
   * digit of the burst in order (`digit` is the first).
   */
  digits?: string;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

export interface CallEndedEvent extends CallEventBase<'call.ended'> {
  reason: string;
  /** completed | transferred | timeout | failed | refused | shutdown */
  outcome: string;
  durationS: number;
  latency: {
    /** Call start to the first assistant audio sent to the caller. */
    firstAudioMs?: number;
    /** Caller stops speaking to the first audio of the answer, over the call's turns. */
    responseAvgMs?: number;
    responseMaxMs?: number;
    /** Caller starts speaking to the Twilio `clear` being sent. */
    bargeInReactionAvgMs?: number;
  };
  turns: { caller: number; assistant: number };
  interruptions: number;
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
  | CallEndedEvent;
