import { Injectable, Scope } from '@nestjs/common';
import type WebSocket from 'ws';
import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { base64DecodedLength } from '../common/json-guards.js';
import type { CallOutcome } from '../metrics/bridge-metrics.service.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import type { TwilioInboundFrame } from '../twilio/media-stream.messages.js';
import { BargeIn } from './barge-in.js';
import { CallActivity } from './call-activity.js';
import type { CallSessionUpdate } from './call-context.js';
import { CallEnding } from './call-ending.js';
import { CallLogger } from './call-logger.js';
import { CallRecorder } from './call-recorder.js';
import { CallRegistry, type LiveCall } from './call-registry.service.js';
import { CallScope } from './call-scope.js';
import { Keypad } from './keypad.js';
import { LiveCallContext, type CallControl } from './live-call-context.js';
import { RealtimeLink } from './realtime-link.js';
import { ResponseFlow, isFlowEvent } from './response-flow.js';
import { ResponseScheduler } from './response-scheduler.js';
import { SessionChanges } from './session-changes.js';
import { SessionSetup } from './session-setup.js';
import { ToolCallCoordinator } from './tool-calls.js';
import { TwilioMediaLink } from './twilio-media-link.js';

/**
 * One phone call, wired: Twilio frames and Realtime events in, handed to the piece whose job each
 * is. Every piece is a per-call provider in the call's own DI context (CallFactory), so a module
 * can add its own beside them and inject this call's CallContext.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallOrchestrator implements CallControl, LiveCall {
  /** State, audio levels and latency for the operator console (fed by the hooks below). */
  readonly activity = new CallActivity();
  /** Every handler of this call runs in it: a throw, or a floating rejection, ends this call. */
  readonly scope: CallScope;
  private state: 'new' | 'active' | 'closed' = 'new';
  private tickTimer?: NodeJS.Timeout;

  constructor(
    readonly context: LiveCallContext,
    readonly recorder: CallRecorder,
    private readonly media: TwilioMediaLink,
    private readonly link: RealtimeLink,
    private readonly session: SessionSetup,
    private readonly changes: SessionChanges,
    private readonly scheduler: ResponseScheduler,
    private readonly flow: ResponseFlow,
    private readonly tools: ToolCallCoordinator,
    private readonly bargeIn: BargeIn,
    private readonly keypad: Keypad,
    private readonly ending: CallEnding,
    private readonly registry: CallRegistry,
    private readonly log: CallLogger,
  ) {
    this.scope = new CallScope(
      {
        callSid: context.callSid,
        fail: (reason) => {
          const live = this.state !== 'closed';
          this.close(reason, 'warn', 'failed');
          return live;
        },
      },
      log,
    );
    flow.bind((action) => this.guard(action));
    // Also after a REST request settles: a throw there must end this call only.
    ending.bind((reason, level, outcome) => this.guard(() => this.close(reason, level, outcome)));
    keypad.guard = (action) => this.guard(action);
    media.playback.onItemHeard = (itemId) => recorder.memory.assistantHeard(itemId);
  }

  get stats() {
    return this.recorder.stats;
  }

  get usage() {
    return this.recorder.usage;
  }

  /**
   * Takes over the caller's socket and opens the Realtime session, inside the call's scope: the
   * timers and the Realtime socket started here carry the call with them.
   */
  begin(socket: WebSocket): void {
    this.scope.run(this.beginInScope, socket);
  }

  private readonly beginInScope = (socket: WebSocket): void => {
    if (this.state !== 'new') return;
    this.state = 'active';
    this.media.attach(socket);
    this.context.attach(this, () => this.recorder.memory.turns());
    this.registry.add(this);
    const tick = () => this.ending.tick(this.stats.framesIn);
    this.tickTimer = setInterval(() => this.guard(tick), 1000);
    const profile = this.context.profile;
    this.log.log(`Twilio stream started${profile ? ` (profile ${profile})` : ''}`);
    this.recorder.started();
    this.link.start(
      {
        onOpen: (reconnected) => this.session.opened(reconnected),
        onReconnecting: () => this.session.replaced(),
        onEvent: (event) => this.onRealtimeEvent(event),
        onFailure: (reason) => this.ending.fail(reason),
      },
      (action) => this.guard(action),
    );
  };

  /** One validated frame of this call's stream. */
  handleTwilioFrame(frame: TwilioInboundFrame): void {
    // A bound handler and its argument: no closure per 20 ms frame.
    this.scope.run(this.onTwilioFrame, frame);
  }

  private readonly onTwilioFrame = (frame: TwilioInboundFrame): void => {
    switch (frame.event) {
      case 'media':
        if (this.state !== 'active') return;
        this.stats.framesIn++;
        this.activity.callerAudio(frame.media.payload); // console hook
        return this.link.appendAudio(this.media.callerAudio(frame.media.payload));
      case 'mark': {
        const reactionMs = this.media.acknowledge(frame.mark.name);
        if (reactionMs !== undefined) this.recorder.bargeInConfirmed(reactionMs);
        return this.ending.finishIfPlayed();
      }
      case 'dtmf':
        return this.keypad.press(frame.dtmf.digit);
      case 'stop':
        return this.close('Twilio sent stop (caller hung up or call ended)');
      case 'connected':
      case 'start':
        return this.countDrop(`unexpected ${frame.event} during the call`);
    }
  };

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

  updateSession(update: CallSessionUpdate): void {
    this.changes.update(update);
  }

  say(text: string): void {
    this.changes.say(text);
  }

  /** Ends the call and frees everything it holds; safe to call more than once. */
  close(reason: string, level: 'log' | 'warn' = 'log', outcome: CallOutcome = 'completed'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.tickTimer);
    this.tools.dispose();
    this.keypad.dispose();
    this.link.close(reason);
    this.media.close(outcome === 'failed' ? reason : undefined);
    this.registry.remove(this);
    this.recorder.ended(reason, level, outcome, {
      dropped: this.media.droppedFrames + this.link.droppedAudioFrames,
      suppressedWarnings: this.log.suppressedWarnings,
    });
  }

  private onRealtimeEvent(event: RealtimeServerEvent): void {
    if (this.state !== 'active') return;
    this.activity.realtimeEvent(event); // console hook
    if (isFlowEvent(event)) return this.flow.handle(event);
    switch (event.type) {
      case 'response.output_audio.delta':
        return this.play(event.response_id, event.item_id, event.content_index, event.delta);
      case 'response.output_audio.done':
        if (!this.scheduler.isDiscarded(event.response_id)) this.media.finished(event.item_id);
        return;
      case 'input_audio_buffer.speech_started':
        return this.bargeIn.interrupt(performance.now(), 'speech');
      case 'error':
        return this.session.error(event.error);
      // Besides the session's, SIP-only server events (the server plays the audio there).
      case 'session.created':
      case 'session.updated':
      case 'output_audio_buffer.started':
      case 'output_audio_buffer.stopped':
      case 'output_audio_buffer.cleared':
      case 'input_audio_buffer.dtmf_event_received':
      case 'other':
        return this.log.debug(
          () => `OpenAI ${event.type === 'other' ? event.originalType : event.type}`,
        );
    }
  }

  /** The hot path out: one audio delta to the caller (unless the caller interrupted it). */
  private play(responseId: string, itemId: string, contentIndex: number, delta: string): void {
    if (delta.length === 0 || this.ending.isEnding) return;
    // Deltas of an interrupted response keep coming until its response.done; the transcript
    // still spans them, so they are counted, not played.
    if (this.scheduler.isDiscarded(responseId)) {
      const audioMs = base64DecodedLength(delta) / MULAW_BYTES_PER_MS;
      return this.recorder.memory.assistantAudio(itemId, audioMs);
    }
    const ms = this.media.play(responseId, itemId, contentIndex, delta);
    this.activity.assistantAudio(delta); // console hook
    this.recorder.memory.assistantAudio(itemId, ms);
    this.recorder.audioOut();
  }

  /** A bug in one call's handling ends that call, never the process (see CallScope). */
  private guard(action: () => void): void {
    this.scope.run(action);
  }
}
