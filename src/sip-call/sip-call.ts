import { Inject, Injectable, Scope } from '@nestjs/common';
import type { CallAcceptParams } from 'openai/resources/realtime/calls';
import { CALL_SETTINGS } from '../call/call-providers.js';
import type { CallSessionUpdate } from '../call/call-context.js';
import { CallStateRefusal } from '../call/call-registry.service.js';
import { CallOwnerBase, CallOwnerParts } from '../call/call-owner-base.js';
import { sessionOf, type CallSettings } from '../call/call-settings.service.js';
import { ResponseFlow, isFlowEvent } from '../call/response-flow.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { MAX_DTMF_PER_S, TokenBucket } from '../media-call/media-rate-limiter.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import { actionForRealtimeError } from '../realtime/realtime-failures.js';
import { sayExactlyInstructions } from '../realtime/realtime-outbound.js';
import type { RealtimeErrorDetail, RealtimeServerEvent } from '../realtime/realtime.events.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { ServerPlayback } from './server-playback.js';
import { SidebandEvents, SidebandLink } from './sideband-link.js';
import { SipCallLine } from './sip-call-line.js';
import { sipAcceptSession, sipSessionUpdate } from './sip-session.js';

/**
 * One SIP call: OpenAI holds the audio (the caller's carrier talks SIP to OpenAI directly); the
 * bridge accepts the call with the call's resolved settings (CALL_SETTINGS, the same resolver as
 * a media call), then runs it over the sideband on the media path's own per-call parts: the
 * ResponseFlow (record, tools), ResponseScheduler (one response at a time), CallEnding (goodbye
 * and transfer wrap-up), CallRecorder (conversation memory, events, call record) and Keypad,
 * bound to the SIP side of each seam (SidebandLink, ServerPlayback, SipCallLine; see
 * call-transport.ts). This class only wires them and owns the call's life: accept, sideband,
 * close; its scope, its CallContext and its sideband reach it through the per-call objects it
 * registers with in its constructor.
 */
@Injectable({ scope: Scope.REQUEST })
export class SipCall extends CallOwnerBase {
  /** Key presses are the caller's to send (tone generators too): bounded as on a media stream. */
  private readonly keys = new TokenBucket(MAX_DTMF_PER_S, MAX_DTMF_PER_S, performance.now());
  /** The line's requests a close set going (the accept it overtook, the hang-up): see settled. */
  private lineWork: Promise<unknown> = Promise.resolve();

  constructor(
    parts: CallOwnerParts,
    private readonly sideband: SidebandLink,
    private readonly line: SipCallLine,
    private readonly playback: ServerPlayback,
    private readonly flow: ResponseFlow,
    private readonly scheduler: ResponseScheduler,
    private readonly realtime: OpenAIRealtimeService,
    private readonly toolRegistry: ToolRegistry,
    private readonly metrics: BridgeMetrics,
    @Inject(CALL_SETTINGS) private readonly settings: CallSettings,
    sidebandEvents: SidebandEvents,
  ) {
    super(parts);
    sidebandEvents.listen({
      onOpen: (reconnected) => this.onSidebandOpen(reconnected),
      onEvent: (event) => this.onEvent(event),
      onGone: (reason, kind) => {
        if (kind === 'failed') return parts.ending.fail(`sideband lost: ${reason}`);
        line.closed();
        this.close(`call ended: ${reason}`);
      },
    });
  }

  /**
   * Accepts the call with its resolved settings and opens the sideband. The call is registered
   * before the first await (it counts against MAX_CONCURRENT_CALLS from the moment start() is
   * called, so the caller gives back the slot it reserved); a failed accept ends the call record
   * with outcome `failed`.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'accepting';
    const { from, to, profile } = this.context;
    this.register(
      `SIP call from ${from ?? 'unknown'} to ${to ?? 'unknown'}` +
        `${profile ? ` (profile ${profile})` : ''}: accepting`,
    );
    const accepted = this.acceptLine();
    this.lineWork = accepted;
    if (!(await accepted)) return;
    this.state = 'active';
    // In the call's scope: the timer and the sideband socket carry the call with them.
    this.scope.run(this.goLive);
  }

  /** True when the call goes on; a refused accept closes it, a close meanwhile hangs up. */
  private async acceptLine(): Promise<boolean> {
    try {
      await this.line.accept(this.acceptSession());
    } catch (error) {
      this.close(`accept failed: ${(error as Error).message}`, 'warn', 'failed');
      // One that may have answered the call all the same is hung up (SipCallLine.accept).
      await this.line.hangUpIfLive();
      return false;
    }
    if (this.state === 'accepting') return true;
    // Closed while the accept was on its way (shutdown, the API): the line it opened is hung up.
    await this.line.hangUpIfLive();
    return false;
  }

  /** Resolves once the accept a close overtook, and the hang-up close sent, have finished. */
  async settled(): Promise<void> {
    await this.lineWork;
  }

  private readonly goLive = (): void => {
    this.startTicking(() => this.ending.tick());
    this.sideband.start();
  };

  /**
   * The media path's session for the same settings (instructions, voice, the offered tools, turn
   * detection, transcription), in the shape the SIP accept takes (see sipAcceptSession).
   */
  private acceptSession(): CallAcceptParams {
    return sipAcceptSession(this.realtime.session(sessionOf(this.settings, this.toolRegistry)));
  }

  // --- CallControl (tools and hooks) and LiveCall (the call-control API) ---------------

  /** Over the sideband as on a media call, without the VAD tuning the SIP path refuses. */
  override updateSession(update: CallSessionUpdate): void {
    super.updateSession(sipSessionUpdate(update));
  }

  /**
   * A hang-up OpenAI refused or never answered leaves the call live (it is, at OpenAI): the
   * operator is told (502) and may try again, as on a media call.
   */
  async hangUpNow(reason: string): Promise<void> {
    if (this.state === 'closed') return;
    // Not answered yet: the call ends here, and the line the accept opens is hung up then.
    if (this.state === 'accepting') return this.close(reason);
    try {
      await this.line.hangUpNow();
    } catch (error) {
      this.log.warn(
        `hang-up through the API failed, the call goes on: ${(error as Error).message}`,
      );
      throw error;
    }
    this.close(reason);
  }

  async transferNow(target: string): Promise<void> {
    if (this.state === 'closed') throw new CallStateRefusal('unknown_call', 'the call has ended');
    if (this.state !== 'active') {
      throw new CallStateRefusal('refused', 'the call is not answered yet: try again');
    }
    await this.line.transferNow(target);
    this.close(`transferred to ${target} through the API`, 'log', 'transferred');
  }

  protected releaseTransport(reason: string): number {
    this.playback.reset();
    this.sideband.close(reason);
    this.lineWork = Promise.all([this.lineWork, this.line.hangUpIfLive()]);
    // The audio travels over SIP: the bridge drops none.
    return 0;
  }

  // --- the sideband -------------------------------------------------------------------

  private onSidebandOpen(reconnected: boolean): void {
    if (reconnected) {
      // The session lives on at OpenAI with the call: only our view of it is stale.
      // Events sent meanwhile are lost: a response.done or output_audio_buffer.stopped that never
      // comes must not hold up the next response or the wrap-up (15 s) for good.
      this.recorder.stats.reconnects++;
      this.metrics.reconnected();
      this.scheduler.reset();
      this.playback.reset();
      // A response whose done was lost goes on once its tool calls are answered (the outputs
      // sent meanwhile went out just now, SidebandLink).
      this.tools.onSessionReplaced();
    } else if (this.settings.greeting) {
      const params = { instructions: sayExactlyInstructions(this.settings.greeting) };
      this.scheduler.request({ reason: 'greeting', params });
    }
    this.scheduler.flush();
  }

  private onEvent(event: RealtimeServerEvent): void {
    if (this.state !== 'active') return;
    this.activity.realtimeEvent(event); // console hook
    // A silent server's response is timed from its transcript before the wrap-up looks at it.
    if (event.type === 'response.done') this.playback.responseDone(event.response);
    // OpenAI truncates an item the caller talked over itself, and says where.
    if (event.type === 'conversation.item.truncated') {
      return this.playback.truncated(event.item_id, event.audio_end_ms);
    }
    if (isFlowEvent(event)) {
      this.flow.handle(event);
      if (event.type === 'response.output_audio_transcript.done') {
        this.playback.transcript(event.item_id, event.response_id);
      }
      return;
    }
    switch (event.type) {
      case 'output_audio_buffer.started':
        return this.playback.started(event.response_id);
      case 'output_audio_buffer.stopped':
        return this.playback.stopped(event.response_id);
      case 'output_audio_buffer.cleared':
        return this.playback.cleared(event.response_id);
      case 'input_audio_buffer.dtmf_event_received':
        if (this.keys.take(1, performance.now())) return this.keypad.press(event.event);
        this.recorder.stats.framesDropped++;
        return;
      case 'error':
        return this.onRealtimeError(event.error);
      // The audio travels over SIP, and the server stops its own playback on speech: the
      // bridge only dates the caller's turn from it.
      case 'input_audio_buffer.speech_started':
        return this.recorder.memory.callerSpeechStarted(event.item_id);
      case 'response.output_audio.delta':
      case 'response.output_audio.done':
      case 'session.created':
      case 'session.updated':
      case 'other':
        return this.log.debug(
          () => `OpenAI ${event.type === 'other' ? event.originalType : event.type}`,
        );
    }
  }

  private onRealtimeError(error: RealtimeErrorDetail): void {
    if (this.scheduler.onError(error)) return;
    const code = error.code ?? error.type ?? 'unknown';
    this.metrics.openaiError(code);
    const about = error.event_id ? ` (about ${this.sideband.describeEvent(error.event_id)})` : '';
    const what = `${code}: ${error.message ?? ''}${about}`;
    if (actionForRealtimeError(error) === 'ignore') this.log.warn(`OpenAI error ${what}`);
    // A SIP call's session cannot be replaced from here: an expired or broken one ends the call.
    else this.ending.fail(`OpenAI error ${what}`);
  }

  /**
   * After an internal error: the line's fallback (FALLBACK_DIAL or a hang-up) rather than a
   * caller left with no one running tools; a call already handing over just closes. False when
   * the call had ended: the error belongs to no live call.
   */
  fail(reason: string): boolean {
    if (this.state === 'closed') return false;
    if (this.ending.isEnding) this.close(reason, 'warn', 'failed');
    else this.ending.fail(reason);
    return true;
  }
}
