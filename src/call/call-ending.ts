import { Inject, Injectable, Scope } from '@nestjs/common';
import { limitsConfig, twilioConfig } from '../config/config.namespaces.js';
import type { LimitsConfig, TwilioConfig } from '../config/config.namespaces.js';
import type { CallOutcome } from '../metrics/bridge-metrics.service.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { fallbackTwiml, transferTwiml } from '../twilio/twiml.js';
import { CallContext } from './call-context.js';
import { CallLogger } from './call-logger.js';
import { RealtimeLink } from './realtime-link.js';
import { ResponseScheduler } from './response-scheduler.js';
import { ToolCallCoordinator } from './tool-calls.js';
import { TwilioMediaLink } from './twilio-media-link.js';

/** How long a goodbye or handover sentence may take before the call is ended anyway. */
const WRAP_UP_LIMIT_MS = 15_000;
const GOODBYE_AT_LIMIT =
  'The call has reached its time limit. In one short sentence, tell the caller you have to end ' +
  'the call now, and say goodbye.';
const GOODBYE = 'Say a short, friendly goodbye to the caller now.';
const HANDOVER =
  'In one short sentence, tell the caller you are transferring them to a colleague now.';

type WrapUpAction = { kind: 'close' } | { kind: 'hangup' } | { kind: 'transfer'; number: string };

/** The call is ending after one last assistant response (goodbye or handover) has played. */
interface WrapUp {
  action: WrapUpAction;
  reason: string;
  deadline: number;
  instructions: string;
  /** The last response, once the server has created it. */
  responseId?: string;
  responseDone: boolean;
}

export type CloseCall = (reason: string, level: 'log' | 'warn', outcome: CallOutcome) => void;

/**
 * How a call ends: after a last sentence (a goodbye, a handover, the duration limit) that the
 * caller has heard to its final mark, then a hang-up or transfer through Twilio's REST API; at
 * once when Twilio goes quiet; or through the fallback (an apology and FALLBACK_DIAL) when the
 * assistant cannot go on. A per-call provider; the orchestrator binds how the call closes.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallEnding {
  private wrapUp?: WrapUp;
  private ending = false;
  private closeCall: CloseCall = () => undefined;
  private framesAtLastTick = 0;
  private idleSeconds = 0;

  constructor(
    private readonly context: CallContext,
    private readonly scheduler: ResponseScheduler,
    private readonly media: TwilioMediaLink,
    private readonly tools: ToolCallCoordinator,
    private readonly twilioRest: TwilioRestService,
    private readonly link: RealtimeLink,
    private readonly log: CallLogger,
    @Inject(twilioConfig.KEY) private readonly twilio: TwilioConfig,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
  ) {
    scheduler.onGiveUp = (reason) => this.fail(reason);
  }

  bind(closeCall: CloseCall): void {
    this.closeCall = closeCall;
  }

  /** True once the call is handing over or closing: no more audio matters. */
  get isEnding(): boolean {
    return this.ending;
  }

  end(reason: string): void {
    this.beginWrapUp({ kind: 'hangup' }, reason, GOODBYE);
  }

  transfer(number: string): void {
    if (!this.twilioRest.available) throw new Error('transfers need TWILIO_AUTH_TOKEN');
    this.beginWrapUp({ kind: 'transfer', number }, `transferred to ${number}`, HANDOVER);
  }

  /**
   * The assistant cannot go on: the caller hears FALLBACK_MESSAGE (and is put through to
   * FALLBACK_DIAL if set) through a REST redirect of the live call, rather than dead air. Verbs
   * after `<Connect>` would do the same but would also play after every normal end.
   */
  fail(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.link.close(reason);
    if (!this.twilioRest.available) return this.closeCall(reason, 'warn', 'failed');
    this.log.error(`${reason}; handing the caller to the fallback`);
    const twiml = fallbackTwiml(this.twilio.fallbackMessage, this.twilio.fallbackDial);
    void this.controlLiveCall('fallback redirect', () =>
      this.twilioRest.redirect(this.context.accountSid, this.context.callSid, twiml),
    ).finally(() => this.closeCall(reason, 'warn', 'failed'));
  }

  onResponseDone(responseId: string): void {
    const wrapUp = this.wrapUp;
    if (wrapUp?.responseId !== responseId) return;
    wrapUp.responseDone = true;
    this.finishIfPlayed();
  }

  /** Playback moved on (a mark echoed, a barge-in): the last sentence may have been heard. */
  finishIfPlayed(): void {
    const wrapUp = this.wrapUp;
    if (wrapUp?.responseDone && !this.media.playback.isPlaying) this.execute(wrapUp);
  }

  /** A new Realtime session replaced a lost one: a last sentence it was saying is asked again. */
  onSessionReplaced(): void {
    const wrapUp = this.wrapUp;
    if (!wrapUp || wrapUp.responseDone || wrapUp.responseId === undefined) return;
    wrapUp.responseId = undefined;
    this.requestLastSentence(wrapUp);
  }

  /** Once a second: the idle timeout, the maximum call duration, a wrap-up that took too long. */
  tick(framesIn: number): void {
    if (framesIn === this.framesAtLastTick) this.idleSeconds++;
    else this.idleSeconds = 0;
    this.framesAtLastTick = framesIn;
    if (this.idleSeconds >= this.limits.mediaIdleTimeoutS) {
      this.ending = true;
      this.closeCall(`no media from Twilio for ${this.idleSeconds} s`, 'warn', 'timeout');
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
    if (this.wrapUp && Date.now() >= this.wrapUp.deadline) this.execute(this.wrapUp);
  }

  /**
   * The call ends after one more assistant response has been heard. When a tool asked for it,
   * the response that follows the tool's output is that sentence; otherwise the bridge asks.
   */
  private beginWrapUp(action: WrapUpAction, reason: string, instructions: string): void {
    if (this.wrapUp || this.ending) return;
    this.log.log(`ending the call after a last response: ${reason}`);
    const deadline = Date.now() + WRAP_UP_LIMIT_MS;
    const wrapUp: WrapUp = { action, reason, deadline, instructions, responseDone: false };
    this.wrapUp = wrapUp;
    if (this.tools.busy) this.scheduler.claimNextCreated((id) => (wrapUp.responseId = id));
    else this.requestLastSentence(wrapUp);
  }

  private requestLastSentence(wrapUp: WrapUp): void {
    this.scheduler.request({
      reason: 'last sentence',
      params: { instructions: wrapUp.instructions },
      onCreated: (id) => (wrapUp.responseId = id),
    });
  }

  private execute(wrapUp: WrapUp): void {
    if (this.ending) return;
    this.ending = true;
    const { action, reason } = wrapUp;
    const outcome: CallOutcome =
      action.kind === 'transfer'
        ? 'transferred'
        : action.kind === 'close'
          ? 'timeout'
          : 'completed';
    if (action.kind === 'close' || !this.twilioRest.available) {
      return this.closeCall(reason, 'log', outcome);
    }
    const { accountSid, callSid } = this.context;
    const request =
      action.kind === 'hangup'
        ? () => this.twilioRest.hangUp(accountSid, callSid)
        : () => this.twilioRest.redirect(accountSid, callSid, transferTwiml(action.number));
    void this.controlLiveCall(action.kind, request).finally(() =>
      this.closeCall(reason, 'log', outcome),
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
}
