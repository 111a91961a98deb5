import { Inject, Injectable, Scope } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { CallActivity } from '../call/call-activity.js';
import type { CallSessionUpdate, TranscriptTurn } from '../call/call-context.js';
import { LiveCallContext, type CallControl } from '../call/live-call-context.js';
import { CallLogger } from '../call/call-logger.js';
import { CallRegistry, type LiveCall } from '../call/call-registry.service.js';
import { CallScope } from '../call/call-scope.js';
import { MAX_QUEUED_RESPONSES } from '../call/response-scheduler.js';
import { CallSettingsService, type CallSettings } from '../call/call-settings.service.js';
import { ToolCallCoordinator, toolCallReport, type ToolCallResult } from '../call/tool-calls.js';
import {
  callControlConfig,
  limitsConfig,
  openaiConfig,
  twilioConfig,
} from '../config/config.namespaces.js';
import type {
  CallControlConfig,
  LimitsConfig,
  OpenAIConfig,
  TwilioConfig,
} from '../config/config.namespaces.js';
import { CallEvent, type AnyCallEvent, type TokenUsage } from '../events/call-events.js';
import { addTokenUsage } from '../call/token-usage.js';
import { BridgeMetrics, type CallOutcome } from '../metrics/bridge-metrics.service.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import { actionForRealtimeError } from '../realtime/realtime-failures.js';
import { realtimeOutbound } from '../realtime/realtime-outbound.js';
import {
  functionCallsIn,
  type RealtimeErrorDetail,
  type RealtimeResponse,
  type RealtimeServerEvent,
} from '../realtime/realtime.events.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { OpenAICallsClient } from './openai-calls.client.js';
import { SidebandLink, type SidebandClientEvent } from './sideband-link.js';
import { SIP_UNSUPPORTED_TURN_DETECTION_FIELDS, sipAcceptSession } from './sip-session.js';
import { SIP_WRAP_UP_LIMIT_MS, SPOKEN_CHARS_PER_S, SPOKEN_MARGIN_MS } from './sip.constants.js';

const GOODBYE_AT_LIMIT =
  'The call has reached its time limit. In one short sentence, tell the caller you have to end ' +
  'the call now, and say goodbye.';
const GOODBYE = 'Say a short, friendly goodbye to the caller now.';
const HANDOVER =
  'In one short sentence, tell the caller you are transferring them to a colleague now.';

type State = 'new' | 'accepting' | 'active' | 'ending' | 'closed';

type WrapUpAction = { kind: 'hangup'; outcome: CallOutcome } | { kind: 'transfer'; target: string };

/** The call ends after one last assistant response (goodbye or handover) has been heard. */
interface WrapUp {
  action: WrapUpAction;
  reason: string;
  deadline: number;
  pendingInstructions?: string;
  responseId?: string;
  responseDone: boolean;
  /** `output_audio_buffer.started` was seen for the response: wait for its stop. */
  audioStarted: boolean;
  audioStopped: boolean;
  /** Set when the end is timed from the transcript (no output-audio events). */
  estimateTimer?: NodeJS.Timeout;
}

/**
 * One SIP call: OpenAI holds the audio (the caller's carrier talks SIP to OpenAI directly); the
 * bridge accepts the call with the call's resolved settings, then runs it over the sideband
 * socket with what a media call has except audio: the same tools (`ToolCallCoordinator`, one
 * `function_call_output` per call and one `response.create` per finished response), one
 * response at a time, the goodbye and transfer wrap-up, transcript, call events, call record and
 * metrics. Resolved once per call in its own DI context, like `CallSession`, so per-call
 * providers and tools get this call's `CallContext`.
 */
@Injectable({ scope: Scope.REQUEST })
export class SipCall implements CallControl, LiveCall {
  readonly transcript: TranscriptTurn[] = [];
  readonly stats = { framesIn: 0, framesOut: 0, framesDropped: 0, bargeIns: 0, reconnects: 0 };
  readonly usage: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  /** State and latency for the console (no audio passes here, so no levels). */
  readonly activity = new CallActivity();
  private readonly log: CallLogger;
  /** Every handler of this call runs in it: a throw, or a floating rejection, ends this call. */
  readonly scope: CallScope;
  private state: State = 'new';
  /** OpenAI answered the call for us: from here on, the line is ours to hang up. */
  private accepted = false;
  /** The line is down or handed on (OpenAI closed the sideband; we hung up or referred). */
  private lineClosed = false;
  private settings!: CallSettings;
  private readonly sideband: SidebandLink;
  private readonly toolCalls: ToolCallCoordinator;
  private activeResponseId?: string;
  private responseWanted = false;
  /** `say` sentences waiting for the active response to end, spoken in order. */
  private readonly sayings: string[] = [];
  /** A `say` response.create is on its way (no response.created yet): nothing else is sent. */
  private saying = false;
  private wrapUp?: WrapUp;
  private tickTimer?: NodeJS.Timeout;
  private speechStoppedAt?: number;
  private readonly latency: { firstAudioMs?: number; responseMs: number[] } = { responseMs: [] };

  constructor(
    readonly context: LiveCallContext,
    private readonly calls: OpenAICallsClient,
    private readonly realtime: OpenAIRealtimeService,
    private readonly registry: CallRegistry,
    private readonly tools: ToolRegistry,
    private readonly events: EventEmitter2,
    private readonly settingsService: CallSettingsService,
    private readonly metrics: BridgeMetrics,
    @Inject(openaiConfig.KEY) openai: OpenAIConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
    @Inject(callControlConfig.KEY) callControl: CallControlConfig,
  ) {
    this.log = new CallLogger(SipCall.name, {
      callSid: context.callSid,
      streamSid: context.streamSid,
    });
    this.scope = new CallScope(
      {
        callSid: context.callSid,
        fail: (reason) => {
          const live = this.state !== 'closed';
          // Already wrapping up (goodbye, transfer): hangUpAfterFailure leaves that alone.
          if (this.state === 'ending') this.close(reason, 'warn', 'failed');
          else this.hangUpAfterFailure(reason);
          return live;
        },
      },
      this.log,
    );
    this.toolCalls = new ToolCallCoordinator(tools, context, callControl);
    this.toolCalls.bind({
      sendOutput: (result) => this.sendToolOutput(result),
      continueResponse: () => this.requestResponse(),
    });
    this.sideband = new SidebandLink(
      {
        realtimeUrl: openai.realtimeUrl,
        callId: context.callSid,
        apiKey: openai.apiKey.reveal(),
        connectTimeoutMs: openai.connectTimeoutMs,
      },
      this.log,
      {
        onOpen: (reconnected) => this.onSidebandOpen(reconnected),
        onEvent: (event) => this.onEvent(event),
        onGone: (reason, kind) => {
          if (kind === 'failed') return this.hangUpAfterFailure(`sideband lost: ${reason}`);
          this.lineClosed = true;
          this.close(`call ended: ${reason}`);
        },
      },
      (action) => this.guard(action),
    );
  }

  /**
   * Accepts the call with its resolved settings and opens the sideband. The caller has
   * registered the call (it counts against MAX_CONCURRENT_CALLS from here); a failed accept ends
   * the call record with outcome `failed`.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'accepting';
    this.settings = this.settingsService.settingsFor(this.context.profile, undefined);
    this.context.attach(this, () => this.transcript);
    this.registry.add(this);
    this.log.log(
      `SIP call from ${this.context.from ?? 'unknown'} to ${this.context.to ?? 'unknown'}` +
        `${this.context.profile ? ` (profile ${this.context.profile})` : ''}: accepting`,
    );
    this.emit({
      event: CallEvent.Started,
      ...this.eventBase(),
      from: this.context.from,
      to: this.context.to,
      profile: this.context.profile,
      customParameters: { ...this.context.customParameters },
    });
    const session = sipAcceptSession(
      this.realtime.session({
        instructions: this.settings.instructions,
        voice: this.settings.voice,
        tools: this.tools.sessionTools(),
      }),
    );
    try {
      await this.calls.accept(this.context.callSid, session);
    } catch (error) {
      this.close(`accept failed: ${(error as Error).message}`, 'warn', 'failed');
      return;
    }
    this.accepted = true;
    // Closed while the accept was on its way (shutdown): the line it just opened is hung up.
    if (this.state !== 'accepting') return this.hangUpIfLive();
    this.state = 'active';
    // In the call's scope: the timer and the sideband socket carry the call with them.
    this.guard(() => {
      this.tickTimer = setInterval(() => this.guard(() => this.tick()), 1000);
      this.sideband.start();
    });
  }

  // --- CallControl: what tools and hooks may do ----------------------------------------

  end(reason: string): void {
    this.beginWrapUp({ kind: 'hangup', outcome: 'completed' }, reason, GOODBYE);
  }

  transfer(number: string): void {
    this.beginWrapUp(
      { kind: 'transfer', target: sipReferTarget(number) },
      `transferred to ${number}`,
      HANDOVER,
    );
  }

  /** Over the sideband, without the VAD tuning the SIP path refuses (as at accept). */
  updateSession(update: CallSessionUpdate): void {
    if (update.tools !== undefined) this.toolCalls.offer(update.tools); // throws on an unknown name
    const { instructions, tools } = update;
    const turnDetection = update.turnDetection && { ...update.turnDetection };
    if (turnDetection) {
      for (const field of SIP_UNSUPPORTED_TURN_DETECTION_FIELDS) {
        delete (turnDetection as Record<string, unknown>)[field];
      }
    }
    // Kept for the record and for what the call reports as its settings.
    if (instructions !== undefined) this.settings.instructions = instructions;
    if (tools !== undefined) this.settings.tools = tools;
    if (turnDetection !== undefined) this.settings.turnDetection = turnDetection;
    const sessionTools = tools && this.tools.sessionTools(tools);
    this.send(realtimeOutbound.sessionChange({ instructions, turnDetection, tools: sessionTools }));
  }

  /** Spoken as the next response: now, or when the active one is done (onResponseDone). */
  say(text: string): void {
    if (this.wrapUp || this.state !== 'active') return;
    if (this.sayings.length >= MAX_QUEUED_RESPONSES) {
      return this.log.warn(`dropped a say: ${this.sayings.length} sentences already waiting`);
    }
    this.sayings.push(text);
    if (!this.activeResponseId && !this.saying) this.sayNext();
  }

  private sayNext(): boolean {
    const words = this.sayings.shift();
    if (words === undefined) return false;
    this.saying = true;
    this.send(realtimeOutbound.sayExactly(words));
    return true;
  }

  // --- LiveCall: what the call-control API may do -------------------------------------

  async hangUpNow(reason: string): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'ending';
    this.lineClosed = true;
    try {
      await this.calls.hangup(this.context.callSid);
    } finally {
      this.close(reason);
    }
  }

  async transferNow(target: string): Promise<void> {
    if (this.state === 'closed') throw new Error('the call has ended');
    await this.calls.refer(this.context.callSid, sipReferTarget(target));
    this.lineClosed = true;
    this.close(`transferred to ${target} through the API`, 'log', 'transferred');
  }

  /** Ends the call record and frees what the call holds; safe to call more than once. */
  close(reason: string, level: 'log' | 'warn' = 'log', outcome: CallOutcome = 'completed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.tickTimer);
    clearTimeout(this.wrapUp?.estimateTimer);
    this.toolCalls.dispose();
    this.sideband.close(reason);
    this.hangUpIfLive();
    this.registry.remove(this);
    const durationS = (Date.now() - this.context.startedAt.getTime()) / 1000;
    const turns = (role: TranscriptTurn['role']) =>
      this.transcript.filter((turn) => turn.role === role).length;
    const responseMs = this.latency.responseMs;
    const record = {
      durationS,
      turns: { caller: turns('caller'), assistant: turns('assistant') },
      interruptions: this.stats.bargeIns,
      latency: {
        firstAudioMs: this.latency.firstAudioMs,
        responseAvgMs: average(responseMs),
        responseMaxMs: responseMs.length ? Math.max(...responseMs) : undefined,
      },
    };
    this.log[level](
      `SIP call ended after ${durationS.toFixed(1)}s: ${reason} (barge-ins ${this.stats.bargeIns}, ` +
        `sideband reconnects ${this.stats.reconnects}, turns ${record.turns.caller}/${record.turns.assistant}, ` +
        `first audio ${record.latency.firstAudioMs ?? '-'} ms, tokens ${this.usage.totalTokens})`,
    );
    this.metrics.callEnded(outcome, this.stats);
    this.emit({
      event: CallEvent.Ended,
      ...this.eventBase(),
      reason,
      outcome,
      ...record,
      reconnects: this.stats.reconnects,
      usage: { ...this.usage },
      frames: { in: 0, out: 0, dropped: 0 },
      transcript: this.transcript.map((turn) => ({ ...turn, at: turn.at.toISOString() })),
    });
  }

  /**
   * A call whose record ends while its line is still up (shutdown drain, internal error) is hung
   * up: OpenAI would otherwise go on talking to the caller with no one running tools.
   */
  private hangUpIfLive(): void {
    if (!this.accepted || this.lineClosed) return;
    this.lineClosed = true;
    void this.controlLiveCall('hangup', () => this.calls.hangup(this.context.callSid));
  }

  // --- the sideband -------------------------------------------------------------------

  private onSidebandOpen(reconnected: boolean): void {
    if (reconnected) {
      // The session lives on at OpenAI with the call: only our view of it is stale.
      this.stats.reconnects++;
      this.metrics.reconnected();
      this.activeResponseId = undefined;
    } else if (this.settings.greeting) {
      this.send(realtimeOutbound.sayExactly(this.settings.greeting));
    }
    if (this.wrapUp && !this.wrapUp.responseId) this.requestWrapUpResponse(this.wrapUp);
  }

  private onEvent(event: RealtimeServerEvent): void {
    if (this.state !== 'active') return;
    this.activity.realtimeEvent(event); // console hook
    switch (event.type) {
      case 'response.created':
        this.saying = false;
        this.activeResponseId = event.response.id;
        if (this.wrapUp && !this.wrapUp.responseId && !this.wrapUp.pendingInstructions) {
          this.wrapUp.responseId = event.response.id;
        }
        return;
      case 'response.done':
        this.onResponseDone(event.response);
        return;
      case 'response.function_call_arguments.done':
      case 'response.output_item.done':
        this.toolCalls.onFunctionCall(event);
        return;
      case 'conversation.item.input_audio_transcription.completed':
        this.addTranscript('caller', event.transcript);
        return;
      case 'conversation.item.input_audio_transcription.failed':
        // The caller said something: the turn stays, marked as not understood.
        this.addTranscript('caller', '[inaudible]');
        return;
      case 'response.output_audio_transcript.done':
        this.addTranscript('assistant', event.transcript);
        return;
      case 'input_audio_buffer.speech_stopped':
        this.speechStoppedAt = Date.now();
        return;
      case 'error':
        this.onRealtimeError(event.error);
        return;
      case 'other':
        this.onOtherEvent(event.originalType, event.raw);
        return;
      // The audio itself travels over SIP: a sideband carries none, and nothing here needs it.
      case 'input_audio_buffer.speech_started':
      case 'session.created':
      case 'session.updated':
      case 'response.output_audio.delta':
      case 'response.output_audio.done':
      case 'conversation.item.added':
      case 'conversation.item.created':
      case 'conversation.item.done':
      case 'conversation.item.truncated':
      case 'input_audio_buffer.committed':
        this.log.debug(() => `OpenAI ${event.type}`);
        return;
    }
  }

  /**
   * WebRTC and SIP sessions report the server's output audio buffer: `started` when it begins
   * playing a response to the caller, `stopped` once all of it has been sent, `cleared` when the
   * caller interrupted it. They stand in for the media path's Twilio marks.
   */
  private onOtherEvent(type: string, raw: Record<string, unknown>): void {
    const responseId = typeof raw.response_id === 'string' ? raw.response_id : undefined;
    const wrapUp = this.wrapUp;
    const ofWrapUp = wrapUp !== undefined && responseId === wrapUp.responseId;
    switch (type) {
      case 'output_audio_buffer.started':
        this.noteFirstAudio();
        if (wrapUp && ofWrapUp) wrapUp.audioStarted = true;
        return;
      case 'output_audio_buffer.cleared':
        this.stats.bargeIns++;
        if (wrapUp && ofWrapUp) wrapUp.audioStopped = true;
        this.finishWrapUpIfHeard();
        return;
      case 'output_audio_buffer.stopped':
        if (wrapUp && ofWrapUp) wrapUp.audioStopped = true;
        this.finishWrapUpIfHeard();
        return;
      default:
        this.log.debug(() => `OpenAI ${type}`);
    }
  }

  private noteFirstAudio(): void {
    const now = Date.now();
    if (this.latency.firstAudioMs === undefined) {
      this.latency.firstAudioMs = now - this.context.startedAt.getTime();
      this.metrics.observeFirstAudio(this.latency.firstAudioMs / 1000);
    }
    if (this.speechStoppedAt !== undefined) {
      const ms = now - this.speechStoppedAt;
      this.latency.responseMs.push(ms);
      this.metrics.observeResponseLatency(ms / 1000);
      this.speechStoppedAt = undefined;
    }
  }

  private onResponseDone(response: RealtimeResponse): void {
    if (this.activeResponseId === response.id) this.activeResponseId = undefined;
    this.addUsage(response.usage);
    this.toolCalls.onResponseDone(response.id, functionCallsIn(response.id, response.output));
    // A waiting `say` goes first; a wanted "go on" then follows that sentence's own done.
    const spoke = !this.activeResponseId && !this.saying && !this.wrapUp && this.sayNext();
    if (!spoke && this.responseWanted && !this.activeResponseId) {
      this.responseWanted = false;
      this.requestResponse();
    }
    const wrapUp = this.wrapUp;
    if (!wrapUp) return;
    if (wrapUp.pendingInstructions) {
      this.requestWrapUpResponse(wrapUp);
    } else if (wrapUp.responseId === response.id) {
      wrapUp.responseDone = true;
      if (!wrapUp.audioStarted && !wrapUp.audioStopped) {
        // No output-audio events for it (yet): time the goodbye from its transcript instead.
        const ms = spokenMs(response.output);
        this.log.debug(() => `goodbye done; ending in ~${ms} ms (estimated from its transcript)`);
        wrapUp.estimateTimer = setTimeout(() => this.guard(() => this.executeWrapUp(wrapUp)), ms);
      }
      this.finishWrapUpIfHeard();
    }
  }

  private onRealtimeError(error: RealtimeErrorDetail): void {
    // A refused say gets no response.created: waiting on it would hold every later response.
    this.saying = false;
    const action = actionForRealtimeError(error);
    this.metrics.openaiError(error.code ?? error.type ?? 'unknown');
    const what = `${error.code ?? error.type ?? 'unknown'}: ${error.message ?? ''}`;
    if (action === 'ignore') this.log.warn(`OpenAI error ${what}`);
    // A SIP call's session cannot be replaced from here: an expired or broken one ends the call.
    else this.hangUpAfterFailure(`OpenAI error ${what}`);
  }

  /**
   * The assistant cannot go on: the caller is put through to FALLBACK_DIAL when it is set
   * (REFER), else hung up, rather than left in silence.
   */
  private hangUpAfterFailure(reason: string): void {
    if (this.state === 'closed' || this.state === 'ending') return;
    this.state = 'ending';
    this.log.error(
      `${reason}; ${this.twilioCfg.fallbackDial ? 'transferring to FALLBACK_DIAL' : 'hanging up'}`,
    );
    const fallback = this.twilioCfg.fallbackDial;
    const request = fallback
      ? () => this.calls.refer(this.context.callSid, sipReferTarget(fallback))
      : () => this.calls.hangup(this.context.callSid);
    this.lineClosed = true;
    void this.controlLiveCall(fallback ? 'fallback transfer' : 'hangup', request).finally(() =>
      this.close(reason, 'warn', 'failed'),
    );
  }

  // --- responses: one at a time --------------------------------------------------------

  /** Asks the model to answer, once the active response (if any) is done. */
  private requestResponse(): void {
    if (this.activeResponseId || this.saying) this.responseWanted = true;
    else this.send(realtimeOutbound.responseCreate());
  }

  private sendToolOutput(result: ToolCallResult): void {
    this.send(realtimeOutbound.functionCallOutput(result.call.call_id, result.output));
    const report = toolCallReport(result);
    this.log.log(report.line);
    this.emit({ event: CallEvent.Tool, ...this.eventBase(), ...report.fields });
  }

  private send(event: SidebandClientEvent): void {
    this.sideband.send(event);
  }

  // --- ending after a last sentence ---------------------------------------------------

  private beginWrapUp(action: WrapUpAction, reason: string, instructions: string): void {
    if (this.wrapUp || this.state !== 'active') return;
    this.log.log(`ending the call after a last response: ${reason}`);
    const wrapUp: WrapUp = {
      action,
      reason,
      deadline: Date.now() + SIP_WRAP_UP_LIMIT_MS,
      responseDone: false,
      audioStarted: false,
      audioStopped: false,
    };
    this.wrapUp = wrapUp;
    // From a tool, the response that follows the tool's output is the last sentence.
    if (!this.toolCalls.busy) this.requestWrapUpResponse(wrapUp, instructions);
  }

  private requestWrapUpResponse(wrapUp: WrapUp, instructions = wrapUp.pendingInstructions): void {
    if (!instructions) return;
    if (!this.sideband.isOpen || this.activeResponseId) {
      wrapUp.pendingInstructions = instructions;
      return;
    }
    wrapUp.pendingInstructions = undefined;
    this.send(realtimeOutbound.responseCreate({ instructions }));
  }

  private finishWrapUpIfHeard(): void {
    const wrapUp = this.wrapUp;
    if (wrapUp?.responseDone && wrapUp.audioStopped) this.executeWrapUp(wrapUp);
  }

  private executeWrapUp(wrapUp: WrapUp): void {
    if (this.state !== 'active') return;
    this.state = 'ending';
    clearTimeout(wrapUp.estimateTimer);
    const { action, reason } = wrapUp;
    const callId = this.context.callSid;
    this.lineClosed = true;
    if (action.kind === 'hangup') {
      void this.controlLiveCall('hangup', () => this.calls.hangup(callId)).finally(() =>
        this.close(reason, 'log', action.outcome),
      );
      return;
    }
    void this.controlLiveCall('transfer (refer)', () => this.calls.refer(callId, action.target))
      .then(async (ok) => {
        // A transfer that did not happen must not leave the caller with a silent assistant.
        if (!ok) await this.controlLiveCall('hangup', () => this.calls.hangup(callId));
        return ok;
      })
      .then((ok) => this.close(reason, ok ? 'log' : 'warn', ok ? 'transferred' : 'failed'));
  }

  /** A calls-API request about this call; a failure is logged and reported as false. */
  private async controlLiveCall(what: string, request: () => Promise<void>): Promise<boolean> {
    try {
      await request();
      return true;
    } catch (error) {
      this.log.error(`${what} through the OpenAI calls API failed: ${(error as Error).message}`);
      return false;
    }
  }

  /** Once a second: the maximum call duration, and a wrap-up that took too long. */
  private tick(): void {
    const elapsedS = (Date.now() - this.context.startedAt.getTime()) / 1000;
    if (!this.wrapUp && elapsedS >= this.limits.maxCallDurationS) {
      this.beginWrapUp(
        { kind: 'hangup', outcome: 'timeout' },
        `maximum call duration (${this.limits.maxCallDurationS} s) reached`,
        GOODBYE_AT_LIMIT,
      );
    }
    if (this.wrapUp && Date.now() >= this.wrapUp.deadline) this.executeWrapUp(this.wrapUp);
  }

  // --- record -------------------------------------------------------------------------

  private addTranscript(role: TranscriptTurn['role'], text: string): void {
    this.transcript.push({ role, text, at: new Date() });
    this.log.debug(() => `${role}: ${text}`);
    this.emit({ event: CallEvent.Transcript, ...this.eventBase(), role, text });
  }

  private addUsage(usage: Record<string, unknown> | null | undefined): void {
    const added = addTokenUsage(this.usage, usage);
    this.metrics.tokensUsed(added.input, added.output);
  }

  private eventBase() {
    return {
      callSid: this.context.callSid,
      streamSid: this.context.streamSid,
      transport: this.context.transport,
      at: new Date().toISOString(),
    };
  }

  private emit(event: AnyCallEvent): void {
    this.events.emit(event.event, event);
  }

  /** A bug in one call's handling ends that call, never the process (see CallScope). */
  private guard(action: () => void): void {
    this.scope.run(action);
  }
}

/** `+15551230003` -> `tel:+15551230003`; `sip:` and `tel:` URIs as they are. */
export function sipReferTarget(target: string): string {
  return /^(sips?|tel):/i.test(target) ? target : `tel:${target}`;
}

/** Roughly how long the assistant's spoken output of a response takes, from its transcript. */
function spokenMs(output: unknown[] | undefined): number {
  let chars = 0;
  for (const item of output ?? []) {
    const content = (item as { content?: unknown }).content;
    if (!Array.isArray(content)) continue;
    for (const part of content as Array<{ transcript?: unknown; text?: unknown }>) {
      const text = typeof part.transcript === 'string' ? part.transcript : part.text;
      if (typeof text === 'string') chars += text.length;
    }
  }
  return Math.round((chars / SPOKEN_CHARS_PER_S) * 1000) + SPOKEN_MARGIN_MS;
}

function average(values: number[]): number | undefined {
  return values.length
    ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100
    : undefined;
}
