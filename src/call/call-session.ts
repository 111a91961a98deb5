import { Inject, Injectable, Scope } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import WebSocket from 'ws';
import { AudioCodecService, type MulawToPcm24kConverter } from '../audio/audio-codec.service.js';
import { BoundedSender } from '../common/bounded-sender.js';
import {
  audioConfig,
  callControlConfig,
  limitsConfig,
  twilioConfig,
} from '../config/config.namespaces.js';
import type {
  AudioConfig,
  CallControlConfig,
  LimitsConfig,
  TwilioConfig,
} from '../config/config.namespaces.js';
import { CallEvent, type AnyCallEvent, type TokenUsage } from '../events/call-events.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import { actionForRealtimeError } from '../realtime/realtime-failures.js';
import {
  functionCallsIn,
  type RealtimeErrorDetail,
  type RealtimeResponse,
  type RealtimeServerEvent,
} from '../realtime/realtime.events.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { twilioOutbound, type TwilioInboundFrame } from '../twilio/media-stream.messages.js';
import { fallbackTwiml, transferTwiml } from '../twilio/twiml.js';
import { BridgeMetrics, type CallOutcome } from '../metrics/bridge-metrics.service.js';
import { RealtimeHealth } from '../realtime/realtime-health.service.js';
import { CallContext, type CallControl, type TranscriptTurn } from './call-context.js';
import { CallLogger } from './call-logger.js';
import { CallPlans } from './call-plans.service.js';
import { CallRegistry } from './call-registry.service.js';
import { CallSettingsService, type CallSettings } from './call-settings.service.js';
import { DtmfRelay } from './dtmf-relay.js';
import { PlaybackTracker } from './playback-tracker.js';
import { RealtimeLink, type RealtimeLinkListener } from './realtime-link.js';
import { ToolCallCoordinator, type ToolCallResult } from './tool-calls.js';

/** Frames queued for a Twilio socket that stopped reading (~2 s of audio + marks). */
const TWILIO_HIGH_WATER_BYTES = 128 * 1024;
const TWILIO_MAX_BACKLOG_FRAMES = 200;
/** How long a goodbye or handover sentence may take before the call is ended anyway. */
const WRAP_UP_LIMIT_MS = 15_000;
const GOODBYE_AT_LIMIT =
  'The call has reached its time limit. In one short sentence, tell the caller you have to end ' +
  'the call now, and say goodbye.';
const GOODBYE = 'Say a short, friendly goodbye to the caller now.';
const HANDOVER =
  'In one short sentence, tell the caller you are transferring them to a colleague now.';

export interface CallStats {
  framesIn: number;
  framesOut: number;
  /** Invalid frames from Twilio, plus audio dropped under backpressure. */
  framesDropped: number;
  bargeIns: number;
  reconnects: number;
}

type SessionState = 'new' | 'active' | 'ending' | 'closed';

type WrapUpAction = { kind: 'close' } | { kind: 'hangup' } | { kind: 'transfer'; number: string };

/** The call is ending after one last assistant response (goodbye or handover) has played. */
interface WrapUp {
  action: WrapUpAction;
  reason: string;
  deadline: number;
  /** Instructions still to send once the active response is over. */
  pendingInstructions?: string;
  /** The last response: the first one created after the wrap-up began. */
  responseId?: string;
  responseDone: boolean;
}

/**
 * One phone call: owns the caller's Twilio socket, the call's Realtime connection (and its
 * replacements), the audio converter, playback state and tool calls, and frees all of it in
 * `close()`.
 *
 * It is a request-scoped provider resolved once per call in its own DI context
 * (`ContextIdFactory.create()` + `moduleRef.resolve`, see CallSessionFactory) rather than built
 * by a factory function: that way any module can declare its own per-call providers and inject
 * this call's `CallContext`, with Nest creating them in the same sub-tree.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallSession implements CallControl {
  readonly transcript: TranscriptTurn[] = [];
  readonly stats: CallStats = {
    framesIn: 0,
    framesOut: 0,
    framesDropped: 0,
    bargeIns: 0,
    reconnects: 0,
  };
  readonly usage: TokenUsage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  private readonly log: CallLogger;
  private state: SessionState = 'new';
  private settings!: CallSettings;
  private twilio?: WebSocket;
  private twilioOut?: BoundedSender;
  private tickTimer?: NodeJS.Timeout;
  private readonly inbound?: MulawToPcm24kConverter;
  private readonly playback = new PlaybackTracker();
  private readonly discardedResponses = new Set<string>();
  private activeResponseId?: string;
  private responseWanted = false;
  private readonly toolCalls: ToolCallCoordinator;
  private readonly link: RealtimeLink;
  private readonly dtmf?: DtmfRelay;
  private framesAtLastTick = 0;
  private idleSeconds = 0;
  private wrapUp?: WrapUp;
  /** Latencies of this call, for its record and the histograms. */
  private readonly latency: {
    firstAudioMs?: number;
    responseMs: number[];
    bargeInReactionMs: number[];
  } = {
    responseMs: [],
    bargeInReactionMs: [],
  };
  private speechStoppedAt?: number;

  constructor(
    readonly context: CallContext,
    private readonly realtimeService: OpenAIRealtimeService,
    codec: AudioCodecService,
    private readonly registry: CallRegistry,
    private readonly twilioRest: TwilioRestService,
    private readonly tools: ToolRegistry,
    private readonly events: EventEmitter2,
    private readonly settingsService: CallSettingsService,
    private readonly plans: CallPlans,
    private readonly metrics: BridgeMetrics,
    private readonly realtimeHealth: RealtimeHealth,
    @Inject(audioConfig.KEY) audio: AudioConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    @Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig,
    @Inject(callControlConfig.KEY) callControl: CallControlConfig,
  ) {
    this.log = new CallLogger(CallSession.name, {
      callSid: context.callSid,
      streamSid: context.streamSid,
    });
    // g711_ulaw: Twilio's payload goes to OpenAI untouched; pcm16: decoded and resampled.
    if (audio.inputFormat === 'pcm16') this.inbound = codec.createInboundConverter();
    this.toolCalls = new ToolCallCoordinator(tools, context, callControl.toolTimeoutMs, {
      sendOutput: (result) => this.guard(() => this.sendToolOutput(result)),
      continueResponse: () => this.guard(() => this.requestResponse()),
    });
    this.link = new RealtimeLink(
      realtimeService,
      realtimeHealth,
      metrics,
      this.log,
      this.realtimeListener,
      (action) => this.guard(action),
    );
    if (callControl.dtmfToModel) {
      this.dtmf = new DtmfRelay((text) => this.guard(() => this.tellModel(text)));
    }
  }

  /** Takes over the caller's socket and opens the Realtime session. */
  begin(twilio: WebSocket): void {
    if (this.state !== 'new') return;
    this.twilio = twilio;
    this.twilioOut = new BoundedSender(twilio, TWILIO_HIGH_WATER_BYTES, TWILIO_MAX_BACKLOG_FRAMES);
    this.settings = this.settingsService.settingsFor(
      this.context.profile,
      this.plans.take(this.context.callSid),
    );
    this.context.attach(this, this.transcript);
    this.state = 'active';
    this.registry.add(this);
    this.tickTimer = setInterval(() => this.guard(() => this.tick()), 1000);
    this.log.log(
      `Twilio stream started${this.context.profile ? ` (profile ${this.context.profile})` : ''}`,
    );
    this.emit({
      event: CallEvent.Started,
      ...this.eventBase(),
      from: this.context.from,
      to: this.context.to,
      profile: this.context.profile,
      customParameters: { ...this.context.customParameters },
    });
    this.link.start();
  }

  /** One validated frame from Twilio. */
  handleTwilioFrame(frame: TwilioInboundFrame): void {
    this.guard(() => {
      switch (frame.event) {
        case 'media':
          this.onCallerAudio(frame.media.payload);
          return;
        case 'mark':
          this.playback.acknowledge(frame.mark.name);
          this.finishWrapUpIfPlayed();
          return;
        case 'dtmf':
          this.log.debug(() => `DTMF ${frame.dtmf.digit}`);
          this.emit({ event: CallEvent.Dtmf, ...this.eventBase(), digit: frame.dtmf.digit });
          this.dtmf?.press(frame.dtmf.digit);
          return;
        case 'stop':
          this.close('Twilio sent stop (caller hung up or call ended)');
          return;
        case 'connected':
        case 'start':
          this.countDrop(`unexpected ${frame.event} during the call`);
          return;
      }
    });
  }

  /** A frame that failed validation, counted against this call. */
  countDrop(reason: string): void {
    if (++this.stats.framesDropped <= 5) this.log.warn(`dropped Twilio frame: ${reason}`);
  }

  // --- CallControl: what tools and hooks may do ----------------------------------------

  end(reason: string): void {
    this.beginWrapUp({ kind: 'hangup' }, reason, GOODBYE);
  }

  transfer(number: string): void {
    if (!this.twilioRest.available) throw new Error('transfers need TWILIO_AUTH_TOKEN');
    this.beginWrapUp({ kind: 'transfer', number }, `transferred to ${number}`, HANDOVER);
  }

  /** Ends the call and frees everything it holds; safe to call more than once. */
  close(reason: string, level: 'log' | 'warn' = 'log', outcome: CallOutcome = 'completed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.tickTimer);
    this.toolCalls.dispose();
    this.dtmf?.dispose();
    this.link.close(reason);
    this.twilioOut?.dispose();
    if (this.twilio?.readyState === WebSocket.OPEN) this.twilio.close(1000, 'call ended');
    this.registry.remove(this);
    const dropped =
      this.stats.framesDropped + (this.twilioOut?.dropped ?? 0) + this.link.droppedAudioFrames;
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
        bargeInReactionAvgMs: average(this.latency.bargeInReactionMs),
      },
    };
    // The call record: one line with everything an operator asks about a call afterwards.
    this.log[level](
      `call ended after ${durationS.toFixed(1)}s: ${reason} (frames in ${this.stats.framesIn}, ` +
        `out ${this.stats.framesOut}, dropped ${dropped}, barge-ins ${this.stats.bargeIns}, ` +
        `reconnects ${this.stats.reconnects}, turns ${record.turns.caller}/${record.turns.assistant}, ` +
        `first audio ${record.latency.firstAudioMs ?? '-'} ms, response avg ${record.latency.responseAvgMs ?? '-'} ms, ` +
        `tokens ${this.usage.totalTokens}` +
        `${this.log.suppressedWarnings ? `, warnings not logged ${this.log.suppressedWarnings}` : ''})`,
    );
    this.metrics.callEnded(outcome, { ...this.stats, framesDropped: dropped });
    this.emit({
      event: CallEvent.Ended,
      ...this.eventBase(),
      reason,
      outcome,
      ...record,
      reconnects: this.stats.reconnects,
      usage: { ...this.usage },
      frames: { in: this.stats.framesIn, out: this.stats.framesOut, dropped },
    });
  }

  // --- caller -> OpenAI ---------------------------------------------------------------

  private onCallerAudio(payload: string): void {
    if (this.state !== 'active') return;
    this.stats.framesIn++;
    this.link.appendAudio(this.inbound ? this.inbound.convertBase64(payload) : payload);
  }

  /** Text for the model from outside the conversation (key presses), answered if it is idle. */
  private tellModel(text: string): void {
    if (!this.link.isOpen) return;
    this.link.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    });
    this.requestResponse();
  }

  /**
   * Asks the model to answer. One response at a time: while one is active a `response.create`
   * would only get `conversation_already_has_active_response`, so it waits for that one's end.
   */
  private requestResponse(): void {
    if (this.activeResponseId) this.responseWanted = true;
    else this.link.send({ type: 'response.create' });
  }

  // --- the Realtime session ---------------------------------------------------------

  private readonly realtimeListener: RealtimeLinkListener = {
    onOpen: (reconnected) => {
      // session.update goes first, so no audio is ever read in the wrong format.
      this.link.send(
        this.realtimeService.sessionUpdate({
          instructions: this.settings.instructions,
          voice: this.settings.voice,
          tools: this.tools.sessionTools(),
        }),
      );
      if (reconnected) {
        for (const item of this.realtimeService.transcriptItems(this.transcript))
          this.link.send(item);
        this.stats.reconnects++;
        this.log.log(`re-seeded the new session with ${this.transcript.length} transcript turns`);
      } else if (this.settings.greeting) {
        this.link.send(this.realtimeService.greetingResponse(this.settings.greeting));
      }
      this.activeResponseId = undefined;
      if (this.wrapUp && !this.wrapUp.responseId) this.requestWrapUpResponse(this.wrapUp);
    },
    // Audio still buffered at Twilio plays on; the new session cannot truncate items of the old
    // one, so playback tracking starts afresh.
    onReconnecting: () => {
      this.playback.interrupt();
      this.discardedResponses.clear();
      if (this.wrapUp) this.wrapUp.responseId = undefined;
    },
    onEvent: (event) => this.onRealtimeEvent(event),
    onFailure: (reason) => this.fail(reason),
  };

  /**
   * The assistant cannot go on: the caller hears FALLBACK_MESSAGE (and is put through to
   * FALLBACK_DIAL if set) through a REST redirect of the live call, rather than dead air. Verbs
   * after `<Connect>` would do the same but would also play after every normal end.
   */
  private fail(reason: string): void {
    if (this.state === 'closed' || this.state === 'ending') return;
    this.state = 'ending';
    this.link.close(reason);
    if (!this.twilioRest.available) {
      this.close(reason, 'warn', 'failed');
      return;
    }
    this.log.error(`${reason}; handing the caller to the fallback`);
    const twiml = fallbackTwiml(this.twilioCfg.fallbackMessage, this.twilioCfg.fallbackDial);
    void this.controlLiveCall('fallback redirect', () =>
      this.twilioRest.redirect(this.context.accountSid, this.context.callSid, twiml),
    ).finally(() => this.guard(() => this.close(reason, 'warn', 'failed')));
  }

  // --- OpenAI -> caller ---------------------------------------------------------------

  private onRealtimeEvent(event: RealtimeServerEvent): void {
    if (this.state !== 'active') return;
    switch (event.type) {
      case 'response.output_audio.delta':
        this.playAssistantAudio(event.response_id, event.item_id, event.content_index, event.delta);
        return;
      case 'response.output_audio.done': {
        if (this.discardedResponses.has(event.response_id)) return;
        const mark = this.playback.finished(event.item_id);
        if (mark) this.sendToTwilio(twilioOutbound.mark(this.context.streamSid, mark));
        return;
      }
      case 'input_audio_buffer.speech_started':
        this.onCallerStartedSpeaking();
        return;
      case 'response.created':
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
      case 'error':
        this.onRealtimeError(event.error);
        return;
      case 'conversation.item.input_audio_transcription.completed':
        this.addTranscript('caller', event.transcript);
        return;
      case 'response.output_audio_transcript.done':
        this.addTranscript('assistant', event.transcript);
        return;
      case 'input_audio_buffer.speech_stopped':
        this.speechStoppedAt = Date.now();
        return;
      case 'session.created':
      case 'session.updated':
        this.log.debug(() => `OpenAI ${event.type}`);
        return;
      case 'other':
        this.log.debug(() => `OpenAI ${event.originalType}`);
        return;
    }
  }

  private playAssistantAudio(
    responseId: string,
    itemId: string,
    contentIndex: number,
    delta: string,
  ): void {
    // Deltas of a response the caller interrupted keep coming until its response.done.
    if (this.discardedResponses.has(responseId) || delta.length === 0) return;
    if (this.stats.framesOut === 0 || this.speechStoppedAt !== undefined) this.noteFirstAudio();
    const streamSid = this.context.streamSid;
    const markName = this.playback.sent(
      itemId,
      responseId,
      contentIndex,
      base64ByteLength(delta) / 8,
    );
    // The audio and its mark leave in one write: one system call, one wake-up of the peer.
    this.twilioOut?.sendPair(
      twilioOutbound.media(streamSid, delta),
      twilioOutbound.mark(streamSid, markName),
    );
    this.stats.framesOut++;
  }

  /** The first audio of the call, or of the answer to what the caller just said. */
  private noteFirstAudio(): void {
    const now = Date.now();
    if (this.stats.framesOut === 0) {
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
    this.discardedResponses.delete(response.id);
    if (this.activeResponseId === response.id) this.activeResponseId = undefined;
    this.addUsage(response.usage);
    this.log.debug(() => `response ${response.id} ${response.status ?? ''}`);
    this.toolCalls.onResponseDone(response.id, functionCallsIn(response.id, response.output));
    if (this.responseWanted && !this.activeResponseId) {
      this.responseWanted = false;
      this.requestResponse();
    }
    const wrapUp = this.wrapUp;
    if (!wrapUp) return;
    if (wrapUp.pendingInstructions) this.requestWrapUpResponse(wrapUp);
    else if (wrapUp.responseId === response.id) {
      wrapUp.responseDone = true;
      this.finishWrapUpIfPlayed();
    }
  }

  /**
   * Barge-in. Only while assistant audio is still playing (judged by unacknowledged marks, not
   * by response.done: Twilio may hold seconds of audio after the model has finished).
   */
  private onCallerStartedSpeaking(): void {
    if (!this.playback.isPlaying) return;
    const heardAt = performance.now();
    this.stats.bargeIns++;
    this.sendToTwilio(twilioOutbound.clear(this.context.streamSid));
    const reactionMs = performance.now() - heardAt;
    this.latency.bargeInReactionMs.push(reactionMs);
    this.metrics.observeBargeInReaction(reactionMs / 1000);
    for (const cut of this.playback.interrupt()) {
      this.discardedResponses.add(cut.responseId);
      this.link.send({
        type: 'conversation.item.truncate',
        item_id: cut.itemId,
        content_index: cut.contentIndex,
        audio_end_ms: cut.audioEndMs,
      });
      this.log.debug(() => `barge-in: truncated ${cut.itemId} at ${cut.audioEndMs} ms`);
      this.emit({
        event: CallEvent.Interrupted,
        ...this.eventBase(),
        itemId: cut.itemId,
        audioEndMs: cut.audioEndMs,
      });
    }
    this.finishWrapUpIfPlayed();
  }

  private onRealtimeError(error: RealtimeErrorDetail): void {
    const action = actionForRealtimeError(error);
    this.metrics.openaiError(error.code ?? error.type ?? 'unknown');
    const what = `${error.code ?? error.type ?? 'unknown'}: ${error.message ?? ''}`;
    if (action === 'ignore') {
      this.log.warn(`OpenAI error ${what}`);
    } else if (action === 'reconnect') {
      this.log.warn(`OpenAI error ${what}; opening a new session`);
      this.link.reconnect(`OpenAI error ${error.code ?? ''}`);
    } else {
      this.fail(`OpenAI error ${what}`);
    }
  }

  private sendToolOutput(result: ToolCallResult): void {
    this.link.send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: result.call.call_id, output: result.output },
    });
    this.log.log(
      `tool ${result.call.name} ${result.ok ? 'answered' : 'failed'} in ${result.durationMs} ms`,
    );
    this.emit({
      event: CallEvent.Tool,
      ...this.eventBase(),
      name: result.call.name,
      callId: result.call.call_id,
      arguments: result.arguments,
      output: result.output,
      ok: result.ok,
      durationMs: result.durationMs,
    });
  }

  private addTranscript(role: TranscriptTurn['role'], text: string): void {
    this.transcript.push({ role, text, at: new Date() });
    this.log.debug(() => `${role}: ${text}`);
    this.emit({ event: CallEvent.Transcript, ...this.eventBase(), role, text });
  }

  private addUsage(usage: Record<string, unknown> | null | undefined): void {
    const count = (key: string) => (typeof usage?.[key] === 'number' ? usage[key] : 0);
    this.usage.inputTokens += count('input_tokens');
    this.usage.outputTokens += count('output_tokens');
    this.usage.totalTokens += count('total_tokens');
    this.metrics.tokensUsed(count('input_tokens'), count('output_tokens'));
  }

  private sendToTwilio(text: string): void {
    this.twilioOut?.send(text);
  }

  // --- ending after a last sentence ---------------------------------------------------

  /**
   * The call ends after one more assistant response (a goodbye, a handover) has been heard. When
   * a tool asked for it, the response that follows the tool's output is that sentence; otherwise
   * the bridge asks for it.
   */
  private beginWrapUp(action: WrapUpAction, reason: string, instructions: string): void {
    if (this.wrapUp || this.state === 'closed' || this.state === 'ending') return;
    this.log.log(`ending the call after a last response: ${reason}`);
    const wrapUp: WrapUp = {
      action,
      reason,
      deadline: Date.now() + WRAP_UP_LIMIT_MS,
      responseDone: false,
    };
    this.wrapUp = wrapUp;
    if (!this.toolCalls.busy) this.requestWrapUpResponse(wrapUp, instructions);
  }

  private requestWrapUpResponse(wrapUp: WrapUp, instructions = wrapUp.pendingInstructions): void {
    if (!instructions) return;
    if (!this.link.isOpen || this.activeResponseId) {
      // One response at a time: ask once the current one is done (or the session is back).
      wrapUp.pendingInstructions = instructions;
      return;
    }
    wrapUp.pendingInstructions = undefined;
    this.link.send({ type: 'response.create', response: { instructions } });
  }

  private finishWrapUpIfPlayed(): void {
    const wrapUp = this.wrapUp;
    if (wrapUp?.responseDone && !this.playback.isPlaying) this.executeWrapUp(wrapUp);
  }

  private executeWrapUp(wrapUp: WrapUp): void {
    if (this.state === 'closed' || this.state === 'ending') return;
    this.state = 'ending';
    const { action, reason } = wrapUp;
    const outcome: CallOutcome =
      action.kind === 'transfer'
        ? 'transferred'
        : action.kind === 'close'
          ? 'timeout'
          : 'completed';
    if (action.kind === 'close' || !this.twilioRest.available) {
      this.close(reason, 'log', outcome);
      return;
    }
    const { accountSid, callSid } = this.context;
    const request =
      action.kind === 'hangup'
        ? () => this.twilioRest.hangUp(accountSid, callSid)
        : () => this.twilioRest.redirect(accountSid, callSid, transferTwiml(action.number));
    void this.controlLiveCall(action.kind, request).finally(() =>
      this.guard(() => this.close(reason, 'log', outcome)),
    );
  }

  /** A REST request about this call; a failure is logged, and the call is closed by the caller. */
  private async controlLiveCall(what: string, request: () => Promise<void>): Promise<void> {
    try {
      await request();
    } catch (error) {
      this.log.error(`${what} through the Twilio REST API failed: ${(error as Error).message}`);
    }
  }

  // --- limits -------------------------------------------------------------------------

  /** Once a second: the idle timeout, the maximum call duration, a wrap-up that took too long. */
  private tick(): void {
    if (this.stats.framesIn === this.framesAtLastTick) this.idleSeconds++;
    else this.idleSeconds = 0;
    this.framesAtLastTick = this.stats.framesIn;
    if (this.idleSeconds >= this.limits.mediaIdleTimeoutS) {
      this.close(`no media from Twilio for ${this.idleSeconds} s`, 'warn', 'timeout');
      return;
    }
    const elapsedS = (Date.now() - this.context.startedAt.getTime()) / 1000;
    if (!this.wrapUp && elapsedS >= this.limits.maxCallDurationS) {
      this.beginWrapUp(
        { kind: 'close' },
        `maximum call duration (${this.limits.maxCallDurationS} s) reached`,
        GOODBYE_AT_LIMIT,
      );
    }
    if (this.wrapUp && Date.now() >= this.wrapUp.deadline) this.executeWrapUp(this.wrapUp);
  }

  private eventBase() {
    return {
      callSid: this.context.callSid,
      streamSid: this.context.streamSid,
      at: new Date().toISOString(),
    };
  }

  private emit(event: AnyCallEvent): void {
    this.events.emit(event.event, event);
  }

  /** A bug in one call's handling ends that call, never the process. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.log.error(`internal error: ${(error as Error).stack ?? String(error)}`);
      this.close('internal error', 'warn', 'failed');
    }
  }
}

function average(values: number[]): number | undefined {
  return values.length
    ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100
    : undefined;
}

/** Decoded size of a base64 string, without decoding it. */
export function base64ByteLength(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return (base64.length / 4) * 3 - padding;
}
