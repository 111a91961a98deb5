import { Inject, Injectable, Scope } from '@nestjs/common';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { OpenAIRealtimeService } from '../realtime/openai-realtime.service.js';
import { actionForRealtimeError } from '../realtime/realtime-failures.js';
import { sayExactlyInstructions } from '../realtime/realtime-outbound.js';
import type { RealtimeErrorDetail } from '../realtime/realtime.events.js';
import { ToolRegistry } from '../tools/tool-registry.service.js';
import { ToolCallCoordinator } from '../call/tool-calls.js';
import { CallEnding } from '../call/call-ending.js';
import { CallLogger } from '../call/call-logger.js';
import { CALL_SETTINGS } from '../call/call-providers.js';
import { CallRecorder } from '../call/call-recorder.js';
import { sessionOf, type CallSettings } from '../call/call-settings.service.js';
import { RealtimeLink } from './realtime-link.js';
import { ResponseScheduler } from '../call/response-scheduler.js';
import { TwilioMediaLink } from './twilio-media-link.js';
import { OperatorLine } from './operator-line.js';

/**
 * The Realtime session's life as the call sees it: what a new session is told (the session, then
 * the greeting, or after a reconnect the conversation so far), what a lost one voids, and what an
 * `error` event means. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class SessionSetup {
  /** The lost session was generating a response: the new one is asked for an answer. */
  private answerLost = false;
  /** The last response whose audio the server finished: all of it went out to the caller. */
  private audioDoneOf?: string;

  constructor(
    private readonly link: RealtimeLink,
    private readonly realtime: OpenAIRealtimeService,
    private readonly tools: ToolRegistry,
    private readonly scheduler: ResponseScheduler,
    private readonly recorder: CallRecorder,
    private readonly media: TwilioMediaLink,
    private readonly ending: CallEnding,
    private readonly metrics: BridgeMetrics,
    private readonly log: CallLogger,
    private readonly line: OperatorLine,
    private readonly toolCalls: ToolCallCoordinator,
    /** The call's settings as the call goes on (SessionChanges updates them): a new session gets them. */
    @Inject(CALL_SETTINGS) private readonly settings: CallSettings,
  ) {}

  opened(reconnected: boolean): void {
    // session.update goes first, so no audio is ever read in the wrong format.
    const { greeting } = this.settings;
    // A session opened while an operator holds the line must not answer the caller either.
    const turnDetection = this.line.turnDetection(this.settings.turnDetection);
    const session = sessionOf({ ...this.settings, turnDetection }, this.tools);
    this.link.send(this.realtime.sessionUpdate(session));
    if (reconnected) {
      // What the caller heard and said, in order, so the new session goes on where it was.
      const items = this.recorder.memory.reseedEvents();
      for (const item of items) this.link.send(item);
      // What the caller said meanwhile comes after the conversation and before any answer.
      this.link.releaseHeldAudio();
      this.recorder.stats.reconnects++;
      this.log.log(`re-seeded the new session with ${items.length} conversation items`);
      // The caller heard part of an answer, or none, and would wait in silence for the rest:
      // the new session answers again from the conversation (its own instructions kept).
      if (this.answerLost && !this.line.held) {
        this.scheduler.request({ reason: 'the answer the lost session was giving' });
      }
      this.answerLost = false;
    } else if (greeting) {
      const params = { instructions: sayExactlyInstructions(greeting) };
      this.scheduler.request({ reason: 'greeting', params });
    }
    this.scheduler.flush();
  }

  /** The server finished a response's audio (it may still add other output before its done). */
  audioDone(responseId: string): void {
    this.audioDoneOf = responseId;
  }

  /** Audio still buffered at Twilio plays on; the new session cannot truncate the old one's items. */
  replaced(): void {
    // An answer the caller talked over, or whose audio all went out, is not asked for again.
    const active = this.scheduler.activeResponseId;
    const answering =
      active !== undefined && !this.scheduler.isDiscarded(active) && active !== this.audioDoneOf;
    this.media.playback.forgetItems();
    this.scheduler.reset();
    // Tool calls the lost session made are answered in the new one, and their continuation asks
    // for the answer; a last sentence the session was saying is asked again by the wrap-up itself.
    const continuing = this.toolCalls.onSessionReplaced();
    this.answerLost = answering && !continuing && !this.ending.isWrappingUp;
    this.ending.onSessionReplaced();
  }

  error(error: RealtimeErrorDetail): void {
    if (this.scheduler.onError(error)) return;
    const code = error.code ?? error.type ?? 'unknown';
    this.metrics.openaiError(code);
    const about = error.event_id ? ` (about ${this.link.describeEvent(error.event_id)})` : '';
    const what = `${code}: ${error.message ?? ''}${about}`;
    switch (actionForRealtimeError(error)) {
      case 'ignore':
        return this.log.warn(`OpenAI error ${what}`);
      case 'fail':
        return this.ending.fail(`OpenAI error ${what}`);
      case 'reconnect':
        this.log.warn(`OpenAI error ${what}; opening a new session`);
        return this.link.reconnect(`OpenAI error ${code}`);
    }
  }
}
