import { Inject, Injectable, Optional, Scope } from '@nestjs/common';
import { CallEventBus } from '../events/call-event-bus.js';
import { MAX_EVENT_TEXT_CHARS, truncateStrings } from '../text/text-bound.js';
import {
  CallEvent,
  type AnyCallEvent,
  type CallTakeoverRecord,
  type CallToolSummary,
  type TokenUsage,
} from '../events/call-events.js';
import { openaiConfig, type OpenAIConfig } from '../config/config.namespaces.js';
import { addTokenUsage, emptyTokenUsage } from './token-usage.js';
import { directionOf } from './call-direction.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import type { CallOutcome } from './call-outcome.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import { CallContext } from './call-context.js';
import { CallLogger } from './call-logger.js';
import { ConversationMemory } from './conversation-memory.js';
import type { PlaybackCut } from '../media-call/playback-clock.js';
import { toolCallReport, type ToolCallResult } from './tool-calls.js';

/** Server events that only the record reads (ConversationMemory, latencies). */
const CONVERSATION_EVENT_TYPES = [
  'conversation.item.added',
  'conversation.item.done',
  'conversation.item.created',
  'input_audio_buffer.committed',
  'conversation.item.input_audio_transcription.completed',
  'conversation.item.input_audio_transcription.failed',
  'response.output_audio_transcript.done',
  'conversation.item.truncated',
  'input_audio_buffer.speech_stopped',
] as const satisfies readonly RealtimeServerEvent['type'][];
const CONVERSATION_EVENTS = new Set<string>(CONVERSATION_EVENT_TYPES);

export type ConversationEvent = Extract<
  RealtimeServerEvent,
  { type: (typeof CONVERSATION_EVENT_TYPES)[number] }
>;

export function isConversationEvent(event: RealtimeServerEvent): event is ConversationEvent {
  return CONVERSATION_EVENTS.has(event.type);
}

/** Tool calls a call record keeps (the first ones): a runaway tool loop must not grow it. */
export const MAX_RECORDED_TOOL_CALLS = 200;

export interface CallStats {
  framesIn: number;
  framesOut: number;
  /** Invalid frames from Twilio, plus audio dropped under backpressure. */
  framesDropped: number;
  bargeIns: number;
  reconnects: number;
}

/**
 * What one call leaves behind: its counters, latencies and token usage, its conversation (the
 * ConversationMemory, fed by the server's conversation events), the call events, and the call
 * record written when it ends. Nothing here decides anything about the call. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallRecorder {
  readonly stats: CallStats = {
    framesIn: 0,
    framesOut: 0,
    framesDropped: 0,
    bargeIns: 0,
    reconnects: 0,
  };
  readonly usage: TokenUsage = emptyTokenUsage();
  private readonly tools: CallToolSummary[] = [];
  readonly memory: ConversationMemory;
  private firstAudioMs?: number;
  private readonly responseMs: number[] = [];
  private readonly bargeInReactionMs: number[] = [];
  private speechStoppedAt?: number;
  private readonly takeovers: CallTakeoverRecord[] = [];

  constructor(
    private readonly context: CallContext,
    private readonly events: CallEventBus,
    private readonly metrics: BridgeMetrics,
    private readonly log: CallLogger,
    @Optional() @Inject(openaiConfig.KEY) private readonly openai?: OpenAIConfig,
  ) {
    // On SIP the bridge never sees the assistant's audio: the server says when it was heard.
    const audioSeen = context.transport !== 'sip';
    this.memory = new ConversationMemory((turn) => {
      this.log.debug(() => `${turn.role}: ${turn.text}`);
      this.emit({ ...turn, event: CallEvent.Transcript, ...this.base() });
    }, audioSeen);
  }

  started(): void {
    const { context } = this;
    this.emit({
      event: CallEvent.Started,
      ...this.base(),
      from: context.from,
      to: context.to,
      profile: context.profile,
      customParameters: { ...context.customParameters },
    });
  }

  /** The server's view of the conversation: where items go, what was said, what was cut. */
  observe(event: ConversationEvent): void {
    const memory = this.memory;
    switch (event.type) {
      case 'conversation.item.added':
      case 'conversation.item.done':
      case 'conversation.item.created':
        return memory.placeItem(event.item, event.previous_item_id);
      case 'input_audio_buffer.committed':
        return memory.callerCommitted(event.item_id, event.previous_item_id);
      case 'conversation.item.input_audio_transcription.completed':
        return memory.callerText(event.item_id, event.transcript);
      case 'conversation.item.input_audio_transcription.failed':
        this.log.warn(
          `transcription of caller turn ${event.item_id} failed (${event.error.code ?? event.error.message ?? 'no detail'}); kept as [inaudible]`,
        );
        return memory.callerInaudible(event.item_id);
      case 'response.output_audio_transcript.done':
        return memory.assistantText(event.item_id, event.transcript);
      case 'conversation.item.truncated':
        return memory.assistantCut(event.item_id, event.audio_end_ms);
      case 'input_audio_buffer.speech_stopped':
        this.speechStoppedAt = Date.now();
        return;
    }
  }

  /** Assistant audio went out: the call's first audio, or the first of an answer. */
  audioOut(): void {
    // Cheap on the hot path: one increment and one comparison per delta.
    if (this.stats.framesOut++ > 0 && this.speechStoppedAt === undefined) return;
    this.assistantAudible();
  }

  /**
   * The assistant's voice reaches the caller (media: its first delta went out; SIP: the server
   * started playing a response): the first-audio and response latencies.
   */
  assistantAudible(): void {
    const now = Date.now();
    if (this.firstAudioMs === undefined) {
      this.firstAudioMs = now - this.context.startedAt.getTime();
      this.metrics.observeFirstAudio(this.firstAudioMs / 1000);
    }
    if (this.speechStoppedAt !== undefined) {
      const ms = now - this.speechStoppedAt;
      this.responseMs.push(ms);
      this.metrics.observeResponseLatency(ms / 1000);
      this.speechStoppedAt = undefined;
    }
  }

  dtmf(digit: string): void {
    this.log.debug(() => `DTMF ${digit}`);
    this.emit({ event: CallEvent.Dtmf, ...this.base(), digit });
  }

  /** An assistant item cut short: by our truncate (media), or the server's own (SIP). */
  interrupted(
    cut: Pick<PlaybackCut, 'itemId' | 'audioEndMs'>,
    by: 'speech' | 'keypad' | 'operator',
  ): void {
    this.log.debug(() => `barge-in (${by}): truncated ${cut.itemId} at ${cut.audioEndMs} ms`);
    this.memory.assistantCut(cut.itemId, cut.audioEndMs);
    this.emit({
      event: CallEvent.Interrupted,
      ...this.base(),
      itemId: cut.itemId,
      audioEndMs: cut.audioEndMs,
      by,
    });
  }

  /** An operator took the line (`call.takeover`, and the record's `takeovers`). */
  takeover(operator: string, since: Date): void {
    this.log.log(`operator ${operator} took the line`);
    this.takeovers.push({ operator, takenAt: since.toISOString() });
    this.emit({ event: CallEvent.Takeover, ...this.base(), operator });
  }

  /** The operator handed the line back to the model (`call.handback`). */
  handback(operator: string, note: string | undefined): void {
    const record = this.takeovers.at(-1);
    if (!record) return;
    record.handedBackAt = new Date().toISOString();
    if (note) record.note = note;
    this.log.log(`operator ${operator} handed the line back`);
    const { takenAt } = record;
    this.emit({ event: CallEvent.Handback, ...this.base(), operator, takenAt, note });
  }

  /** Twilio confirmed a barge-in's `clear`, `ms` after the caller began to speak. */
  bargeInConfirmed(ms: number): void {
    this.bargeInReactionMs.push(ms);
    this.metrics.observeBargeInReaction(ms / 1000);
  }

  tool(result: ToolCallResult): void {
    const report = toolCallReport(result);
    // A handler's own exception is a bug to fix or an outage to see: its stack goes with it.
    // Warnings, so a tool failing on every call is bounded per call like any other.
    if (result.ok) this.log.log(report.line);
    else
      this.log.warn(result.thrown?.stack ? `${report.line}\n${result.thrown.stack}` : report.line);
    if (this.tools.length < MAX_RECORDED_TOOL_CALLS) {
      const { name, arguments: args, output, ok, durationMs } = report.fields;
      this.tools.push({ name, arguments: args, output, ok, ms: durationMs });
    }
    this.emit({ event: CallEvent.Tool, ...this.base(), ...report.fields });
  }

  /** The call record: one log line and `call.ended`, with everything asked about a call later. */
  ended(
    reason: string,
    level: 'log' | 'warn',
    outcome: CallOutcome,
    extra: { dropped: number; suppressedWarnings: number },
  ): void {
    this.memory.flush();
    const { stats, usage } = this;
    const durationS = (Date.now() - this.context.startedAt.getTime()) / 1000;
    const transcript = this.memory.turns().map((turn) => ({ ...turn, at: turn.at.toISOString() }));
    const count = (role: string) => transcript.filter((turn) => turn.role === role).length;
    const latency = {
      firstAudioMs: this.firstAudioMs,
      responseAvgMs: average(this.responseMs),
      responseMaxMs: this.responseMs.length ? Math.max(...this.responseMs) : undefined,
      bargeInReactionAvgMs: average(this.bargeInReactionMs),
    };
    const turns = { caller: count('caller'), assistant: count('assistant') };
    const dropped = stats.framesDropped + extra.dropped;
    this.log[level](
      `call ended after ${durationS.toFixed(1)}s: ${reason} (frames in ${stats.framesIn}, ` +
        `out ${stats.framesOut}, dropped ${dropped}, barge-ins ${stats.bargeIns}, ` +
        `reconnects ${stats.reconnects}, turns ${turns.caller}/${turns.assistant}, ` +
        `first audio ${latency.firstAudioMs ?? '-'} ms, response avg ${latency.responseAvgMs ?? '-'} ms, ` +
        `barge-in reaction avg ${latency.bargeInReactionAvgMs ?? '-'} ms, tokens ${usage.totalTokens}` +
        `${extra.suppressedWarnings ? `, warnings not logged ${extra.suppressedWarnings}` : ''})`,
    );
    this.metrics.callEnded(outcome, { ...stats, framesDropped: dropped });
    const { context } = this;
    const base = this.base();
    this.emit({
      event: CallEvent.Ended,
      ...base,
      direction: directionOf(context.customParameters),
      from: context.from,
      to: context.to,
      profile: context.profile,
      startedAt: context.startedAt.toISOString(),
      endedAt: base.at,
      model: this.openai?.model,
      reason,
      outcome,
      durationS,
      latency,
      turns,
      turnsOmitted: this.memory.forgottenTurns,
      transcript,
      tools: [...this.tools],
      interruptions: stats.bargeIns,
      takeovers: this.takeovers.map((record) => ({ ...record })),
      reconnects: stats.reconnects,
      usage: { ...usage },
      frames: { in: stats.framesIn, out: stats.framesOut, dropped },
    });
  }

  /** A response's token usage (`response.done`). */
  addUsage(usage: Record<string, unknown> | null | undefined): void {
    const added = addTokenUsage(this.usage, usage);
    this.metrics.tokensUsed(added.input, added.output);
  }

  private base() {
    const { callSid, streamSid, transport } = this.context;
    return { callSid, streamSid, transport, at: new Date().toISOString() };
  }

  /**
   * Every call event leaves through here: its text (turns, tool arguments and output, reasons)
   * cut at MAX_EVENT_TEXT_CHARS with a marker, whoever reads it next (webhook, SSE, console).
   */
  private emit(event: AnyCallEvent): void {
    this.events.emit(event.event, truncateStrings(event, MAX_EVENT_TEXT_CHARS));
  }
}

function average(values: number[]): number | undefined {
  return values.length
    ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100
    : undefined;
}
