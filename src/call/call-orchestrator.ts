import { Inject, Injectable, Scope } from '@nestjs/common';
import type WebSocket from 'ws';
import { AudioCodecService, type MulawToPcm24kConverter } from '../audio/audio-codec.service.js';
import { audioConfig, callControlConfig } from '../config/config.namespaces.js';
import type { AudioConfig, CallControlConfig } from '../config/config.namespaces.js';
import { base64DecodedLength } from '../common/json-guards.js';
import { BridgeMetrics, type CallOutcome } from '../metrics/bridge-metrics.service.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import { actionForRealtimeError } from '../realtime/realtime-failures.js';
import { realtimeOutbound, sayExactlyInstructions } from '../realtime/realtime-outbound.js';
import { functionCallsIn, type RealtimeErrorDetail } from '../realtime/realtime.events.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import type { TwilioInboundFrame } from '../twilio/media-stream.messages.js';
import { CallContext, type CallControl } from './call-context.js';
import { CallEnding } from './call-ending.js';
import { CallLogger } from './call-logger.js';
import { CALL_SETTINGS } from './call-providers.js';
import { CallRecorder, isConversationEvent } from './call-recorder.js';
import { CallRegistry } from './call-registry.service.js';
import type { CallSettings } from './call-settings.service.js';
import { DtmfRelay } from './dtmf-relay.js';
import { RealtimeLink, type RealtimeLinkListener } from './realtime-link.js';
import { ResponseScheduler } from './response-scheduler.js';
import { ToolCallCoordinator, type ToolCallResult } from './tool-calls.js';
import { TwilioMediaLink } from './twilio-media-link.js';

/**
 * One phone call, wired: Twilio frames in, Realtime events in, and what each means for the two
 * links, the response scheduler, the tools, the ending and the record. Every piece is a per-call
 * provider in the call's own DI context (CallFactory), so any module can add its own beside them
 * and inject this call's CallContext.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallOrchestrator implements CallControl {
  private state: 'new' | 'active' | 'closed' = 'new';
  private tickTimer?: NodeJS.Timeout;
  private readonly inbound?: MulawToPcm24kConverter;
  private readonly dtmf?: DtmfRelay;
  private readonly dtmfInterrupts: boolean;

  constructor(
    readonly context: CallContext,
    readonly recorder: CallRecorder,
    private readonly media: TwilioMediaLink,
    private readonly link: RealtimeLink,
    private readonly scheduler: ResponseScheduler,
    private readonly tools: ToolCallCoordinator,
    private readonly ending: CallEnding,
    private readonly registry: CallRegistry,
    private readonly realtime: OpenAIRealtimeService,
    private readonly toolRegistry: ToolRegistry,
    private readonly metrics: BridgeMetrics,
    private readonly log: CallLogger,
    codec: AudioCodecService,
    @Inject(CALL_SETTINGS) private readonly settings: CallSettings,
    @Inject(audioConfig.KEY) audio: AudioConfig,
    @Inject(callControlConfig.KEY) callControl: CallControlConfig,
  ) {
    // g711_ulaw: Twilio's payload goes to OpenAI untouched; pcm16: decoded and resampled.
    if (audio.inputFormat === 'pcm16') this.inbound = codec.createInboundConverter();
    if (callControl.dtmfToModel) {
      this.dtmf = new DtmfRelay((text) => this.guard(() => this.tellModel(text)));
    }
    this.dtmfInterrupts = callControl.dtmfInterrupts;
    tools.bind({
      sendOutput: (result) => this.guard(() => this.sendToolOutput(result)),
      continueResponse: () => this.guard(() => scheduler.request({ reason: 'tool output' })),
    });
    ending.bind((reason, level, outcome) => this.close(reason, level, outcome));
    media.playback.onItemHeard = (itemId) => recorder.memory.assistantHeard(itemId);
  }

  get stats() {
    return this.recorder.stats;
  }

  /** Takes over the caller's socket and opens the Realtime session. */
  begin(socket: WebSocket): void {
    if (this.state !== 'new') return;
    this.state = 'active';
    this.media.attach(socket);
    this.context.attach(this, () => this.recorder.memory.turns());
    this.registry.add(this);
    this.tickTimer = setInterval(
      () => this.guard(() => this.ending.tick(this.stats.framesIn)),
      1000,
    );
    const profile = this.context.profile;
    this.log.log(`Twilio stream started${profile ? ` (profile ${profile})` : ''}`);
    this.recorder.started();
    this.link.start(this.realtimeListener, (action) => this.guard(action));
  }

  /** One validated frame of this call's stream. */
  handleTwilioFrame(frame: TwilioInboundFrame): void {
    this.guard(() => {
      switch (frame.event) {
        case 'media':
          if (this.state !== 'active') return;
          this.stats.framesIn++;
          this.link.appendAudio(
            this.inbound ? this.inbound.convertBase64(frame.media.payload) : frame.media.payload,
          );
          return;
        case 'mark': {
          const reactionMs = this.media.acknowledge(frame.mark.name);
          if (reactionMs !== undefined) this.recorder.bargeInConfirmed(reactionMs);
          this.ending.finishIfPlayed();
          return;
        }
        case 'dtmf':
          this.recorder.dtmf(frame.dtmf.digit);
          // A key press while the assistant speaks interrupts it, as speech does.
          if (this.dtmfInterrupts) this.bargeIn(performance.now(), 'keypad');
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

  end(reason: string): void {
    this.ending.end(reason);
  }

  transfer(number: string): void {
    this.ending.transfer(number);
  }

  /** Ends the call and frees everything it holds; safe to call more than once. */
  close(reason: string, level: 'log' | 'warn' = 'log', outcome: CallOutcome = 'completed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.tickTimer);
    this.tools.dispose();
    this.dtmf?.dispose();
    this.link.close(reason);
    this.media.close();
    this.registry.remove(this);
    this.recorder.ended(reason, level, outcome, {
      dropped: this.media.droppedFrames + this.link.droppedAudioFrames,
      suppressedWarnings: this.log.suppressedWarnings,
    });
  }

  private readonly realtimeListener: RealtimeLinkListener = {
    onOpen: (reconnected) => {
      // session.update goes first, so no audio is ever read in the wrong format.
      const { instructions, voice, greeting } = this.settings;
      this.link.send(
        this.realtime.sessionUpdate({
          instructions,
          voice,
          tools: this.toolRegistry.sessionTools(),
        }),
      );
      if (reconnected) {
        const items = this.recorder.memory.reseedEvents();
        for (const item of items) this.link.send(item);
        this.stats.reconnects++;
        this.log.log(`re-seeded the new session with ${items.length} conversation items`);
      } else if (greeting) {
        this.scheduler.request({
          reason: 'greeting',
          params: { instructions: sayExactlyInstructions(greeting) },
        });
      }
      this.scheduler.flush();
    },
    // Audio still buffered at Twilio plays on; the new session cannot truncate the old one's items.
    onReconnecting: () => {
      this.media.playback.forgetItems();
      this.scheduler.reset();
      this.ending.onSessionReplaced();
    },
    onEvent: (event) => this.onRealtimeEvent(event),
    onFailure: (reason) => this.ending.fail(reason),
  };

  private onRealtimeEvent(event: RealtimeServerEvent): void {
    if (this.state !== 'active') return;
    if (isConversationEvent(event)) return this.recorder.observe(event);
    switch (event.type) {
      case 'response.output_audio.delta': {
        const { response_id: responseId, item_id: itemId, delta } = event;
        // Deltas of a response the caller interrupted keep coming until its response.done.
        if (delta.length === 0 || this.ending.isEnding) return;
        if (this.scheduler.isDiscarded(responseId))
          return this.recorder.memory.assistantAudio(itemId, base64DecodedLength(delta) / 8);
        const ms = this.media.play(responseId, itemId, event.content_index, delta);
        this.recorder.memory.assistantAudio(itemId, ms);
        this.recorder.audioOut();
        return;
      }
      case 'response.output_audio.done':
        if (!this.scheduler.isDiscarded(event.response_id)) this.media.finished(event.item_id);
        return;
      case 'input_audio_buffer.speech_started':
        return this.bargeIn(performance.now(), 'speech');
      case 'response.created':
        return this.scheduler.onCreated(event.response);
      case 'response.done':
        this.recorder.addUsage(event.response.usage);
        this.scheduler.onDone(event.response);
        this.tools.onResponseDone(
          event.response.id,
          functionCallsIn(event.response.id, event.response.output),
        );
        this.ending.onResponseDone(event.response.id);
        return;
      case 'response.function_call_arguments.done':
      case 'response.output_item.done':
        this.recorder.memory.toolCall({
          callId: event.call_id,
          name: event.name,
          arguments: event.arguments,
        });
        return this.tools.onFunctionCall(event);
      case 'error':
        return this.onRealtimeError(event.error);
      case 'session.created':
      case 'session.updated':
      case 'other':
        return this.log.debug(
          () => `OpenAI ${event.type === 'other' ? event.originalType : event.type}`,
        );
    }
  }

  /**
   * Barge-in, by speech or key press, only while assistant audio is still playing (outstanding
   * marks, not response.done: Twilio may hold seconds of audio after the model has finished).
   * Twilio stops at once; each item is truncated where the caller stopped hearing it.
   */
  private bargeIn(since: number, by: 'speech' | 'keypad'): void {
    if (!this.media.playback.isPlaying) return;
    this.stats.bargeIns++;
    const { cuts } = this.media.interrupt(since);
    for (const cut of cuts) {
      this.scheduler.discard(cut.responseId);
      const truncate = realtimeOutbound.truncate(cut.itemId, cut.contentIndex, cut.audioEndMs);
      this.link.send(truncate, `${cut.itemId} at ${truncate.audio_end_ms} ms`);
      this.recorder.interrupted(cut, by);
    }
    // The server cancels a response the caller talks over (interrupt_response); not a key press.
    if (by === 'keypad') this.scheduler.cancelActive();
    this.ending.finishIfPlayed();
  }

  private onRealtimeError(error: RealtimeErrorDetail): void {
    if (this.scheduler.onError(error)) return;
    const code = error.code ?? error.type ?? 'unknown';
    this.metrics.openaiError(code);
    const about = error.event_id ? ` (about ${this.link.describeEvent(error.event_id)})` : '';
    const what = `${code}: ${error.message ?? ''}${about}`;
    const action = actionForRealtimeError(error);
    if (action === 'ignore') this.log.warn(`OpenAI error ${what}`);
    else if (action === 'fail') this.ending.fail(`OpenAI error ${what}`);
    else {
      this.log.warn(`OpenAI error ${what}; opening a new session`);
      this.link.reconnect(`OpenAI error ${code}`);
    }
  }

  /** Key presses, as text for the model, answered once it is free. */
  private tellModel(text: string): void {
    if (this.state !== 'active') return;
    const id = this.recorder.memory.addKeypad(text);
    this.link.send(realtimeOutbound.userText(text, id));
    this.scheduler.request({ reason: 'keypad' });
  }

  private sendToolOutput(result: ToolCallResult): void {
    const { call_id: callId } = result.call;
    const id = this.recorder.memory.toolOutput(callId, result.output);
    this.link.send(realtimeOutbound.functionCallOutput(callId, result.output, id));
    this.recorder.tool(result);
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
