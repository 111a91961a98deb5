import { Injectable, Scope } from '@nestjs/common';
import { MULAW_BYTES_PER_MS } from '../audio/mulaw.js';
import { base64DecodedLength } from '../text/json-guards.js';
import type { CallOutcome } from '../call/call-outcome.js';
import { CallStateRefusal } from '../call/call-registry.service.js';
import type { RealtimeServerEvent } from '../realtime/realtime.events.js';
import type { TwilioInboundFrame } from '../twilio/media-stream.messages.js';
import { BargeIn } from './barge-in.js';
import { CallOwnerBase, CallOwnerParts } from '../call/call-owner-base.js';
import { RealtimeLinkEvents } from '../call/link-events.js';
import { RealtimeLink } from './realtime-link.js';
import { ResponseFlow, isFlowEvent } from '../call/response-flow.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { SessionSetup } from './session-setup.js';
import { TwilioMediaLink } from './twilio-media-link.js';
import { OperatorLine } from './operator-line.js';
import { Takeover } from './takeover.js';

/**
 * One phone call, wired: Twilio frames and Realtime events in, handed to the piece whose job each
 * is. Every piece is a per-call provider in the call's own DI context (CallFactory), built whole
 * by injection, so a module can add its own beside them and inject this call's CallContext. The
 * call's owner: its scope, its CallContext and its Realtime link reach it through the per-call
 * objects it registers with in its constructor.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallOrchestrator extends CallOwnerBase {
  constructor(
    parts: CallOwnerParts,
    private readonly media: TwilioMediaLink,
    private readonly link: RealtimeLink,
    private readonly session: SessionSetup,
    private readonly scheduler: ResponseScheduler,
    private readonly flow: ResponseFlow,
    private readonly bargeIn: BargeIn,
    private readonly line: OperatorLine,
    private readonly takeover: Takeover,
    linkEvents: RealtimeLinkEvents,
  ) {
    super(parts);
    linkEvents.listen({
      onOpen: (reconnected) => session.opened(reconnected),
      onReconnecting: () => session.replaced(),
      onEvent: (event) => this.onRealtimeEvent(event),
      onFailure: (reason) => parts.ending.fail(reason),
    });
  }

  /**
   * Starts the call on the caller's socket (its media link has it) and opens the Realtime
   * session, inside the call's scope: the timers and the Realtime socket started here carry the
   * call with them.
   */
  begin(): void {
    this.scope.run(this.beginInScope);
  }

  private readonly beginInScope = (): void => {
    if (this.state !== 'new') return;
    this.state = 'active';
    const profile = this.context.profile;
    this.register(`Twilio stream started${profile ? ` (profile ${profile})` : ''}`);
    this.startTicking(() => this.ending.tick(this.stats.framesIn));
    this.media.start();
    this.takeover.begin();
    this.link.start();
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
        return this.link.appendAudio(this.media.callerAudio(frame.media));
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

  // While an operator holds the line the call is theirs: the model, a tool, a hook or another
  // console page cannot end it after a goodbye, hand it over or make the assistant speak. The
  // operator's own hang-up and transfer go through the carrier (CallControlService) instead.
  override end(reason: string): void {
    this.refuseWhileHeld();
    super.end(reason);
  }

  override transfer(number: string): void {
    this.refuseWhileHeld();
    super.transfer(number);
  }

  override say(text: string): void {
    this.refuseWhileHeld();
    super.say(text);
  }

  private refuseWhileHeld(): void {
    if (this.line.held) {
      throw new CallStateRefusal('refused', 'an operator holds the line: not until handback');
    }
  }

  /** A frame that failed validation, counted against this call. */
  countDrop(reason: string): void {
    if (++this.stats.framesDropped <= 5) this.log.warn(`dropped Twilio frame: ${reason}`);
  }

  /** After an internal error: the call closes as failed. False when it had ended already. */
  fail(reason: string): boolean {
    const live = this.state !== 'closed';
    this.close(reason, 'warn', 'failed');
    return live;
  }

  protected releaseTransport(reason: string, outcome: CallOutcome): number {
    this.takeover.end();
    this.link.close(reason);
    this.media.close(outcome === 'failed' ? reason : undefined);
    return this.media.droppedFrames + this.link.droppedAudioFrames;
  }

  private onRealtimeEvent(event: RealtimeServerEvent): void {
    if (this.state !== 'active') return;
    this.activity.realtimeEvent(event); // console hook
    if (isFlowEvent(event)) {
      this.flow.handle(event);
      // While an operator holds the line, a response the server starts anyway is cancelled.
      if (event.type === 'response.created' && this.line.held) this.scheduler.cancelActive();
      return;
    }
    switch (event.type) {
      case 'response.output_audio.delta':
        return this.play(event.response_id, event.item_id, event.content_index, event.delta);
      case 'response.output_audio.done':
        this.session.audioDone(event.response_id);
        if (!this.scheduler.isDiscarded(event.response_id)) this.media.finished(event.item_id);
        return;
      case 'input_audio_buffer.speech_started':
        this.recorder.memory.callerSpeechStarted(event.item_id);
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
    // still spans them, so they are counted, not played. Nor is the model heard over an operator.
    if (this.scheduler.isDiscarded(responseId) || this.line.held) {
      const audioMs = base64DecodedLength(delta) / MULAW_BYTES_PER_MS;
      this.recorder.memory.assistantAudio(itemId, audioMs);
      return this.recorder.memory.assistantUnheard(itemId);
    }
    const ms = this.media.play(responseId, itemId, contentIndex, delta);
    this.activity.assistantAudio(delta); // console hook
    this.recorder.memory.assistantAudio(itemId, ms);
    this.recorder.audioOut();
  }
}
