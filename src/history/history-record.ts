import type { CallEndedEvent, CallToolSummary, TokenUsage } from '../events/call-events.js';
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
  'reconnects' | 'turns' | 'usage' | 'latency' | 'frames' | 'model'
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
    usage: event.usage,
    latency: event.latency,
    frames: event.frames,
    model: event.model ?? null,
    costUsd: costOf(event.usage, event.model ? prices[event.model] : undefined),
    recording: null,
    transcript: event.transcript.map((turn) => ({
      role: turn.role,
      text: turn.text,
      atMs: Math.max(0, Date.parse(turn.at) - started),
      ...(turn.interrupted ? { interrupted: true } : {}),
      ...(turn.keypad ? { keypad: true } : {}),
      ...(turn.inaudible ? { inaudible: true } : {}),
    })),
    tools: event.tools,
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
