import { Inject, Injectable, Scope } from '@nestjs/common';
import { limitsConfig } from '../config/config.namespaces.js';
import type { LimitsConfig } from '../config/config.namespaces.js';
import type { CallOutcome } from './call-outcome.js';
import { CallContext } from './call-context.js';
import { CallLogger } from './call-logger.js';
import { CallScope } from './call-scope.js';
import {
  CALL_CHANNEL,
  CALL_LINE,
  CALL_PLAYBACK,
  type CallChannel,
  type CallLine,
  type CallPlayback,
} from './call-transport.js';
import { ResponseScheduler, type ResponseRequest } from './response-scheduler.js';
import { ToolCallCoordinator } from './tool-calls.js';

/** How long a goodbye or handover sentence may take before the call is ended anyway. */
const WRAP_UP_LIMIT_MS = 15_000;
/** How often the call's ending is checked (idle, duration, a wrap-up that took too long). */
export const ENDING_TICK_MS = 1000;

/**
 * The longest a call with this duration limit can last: the limit is seen at the next tick, then
 * the goodbye may take WRAP_UP_LIMIT_MS, then the line is hung up (a second for the hang-up's
 * last audio). A recording of the call is sized by it.
 */
export function longestCallMs(maxCallDurationS: number): number {
  return maxCallDurationS * 1000 + ENDING_TICK_MS + WRAP_UP_LIMIT_MS + 1000;
}
const GOODBYE_AT_LIMIT =
  'The call has reached its time limit. In one short sentence, tell the caller you have to end ' +
  'the call now, and say goodbye.';
const GOODBYE = 'Say a short, friendly goodbye to the caller now.';
const HANDOVER =
  'In one short sentence, tell the caller you are transferring them to a colleague now.';

type WrapUpAction = { kind: 'limit' } | { kind: 'hangup' } | { kind: 'transfer'; number: string };

/** The call is ending after one last assistant response (goodbye or handover) has played. */
interface WrapUp {
  action: WrapUpAction;
  reason: string;
  deadline: number;
  instructions: string;
  /** The last response, once the server has created it. */
  responseId?: string;
  /** Our request for it, while the bridge asked for one. */
  request?: ResponseRequest;
  responseDone: boolean;
}

/**
 * How a call ends, on either transport: after a last sentence (a goodbye, a handover, the
 * duration limit) that the caller has heard (the call's CALL_PLAYBACK: Twilio's final mark on a
 * media call, the server's output-audio events on SIP), then a hang-up or transfer through the
 * call's CALL_LINE; at once when Twilio goes quiet (media only); or through the line's fallback
 * when the assistant cannot go on. A per-call provider; the call's owner closes the call.
 */
@Injectable({ scope: Scope.REQUEST })
export class CallEnding {
  private wrapUp?: WrapUp;
  private ending = false;
  private framesAtLastTick = 0;
  private idleSeconds = 0;

  constructor(
    private readonly context: CallContext,
    private readonly scheduler: ResponseScheduler,
    private readonly tools: ToolCallCoordinator,
    @Inject(CALL_PLAYBACK) private readonly playback: CallPlayback,
    @Inject(CALL_LINE) private readonly line: CallLine,
    @Inject(CALL_CHANNEL) private readonly channel: CallChannel,
    private readonly log: CallLogger,
    @Inject(limitsConfig.KEY) private readonly limits: LimitsConfig,
    /** Closes the call through its owner, in its scope (also after a line request settles). */
    private readonly scope: CallScope,
  ) {}

  /** True once the call is handing over or closing: no more audio matters. */
  get isEnding(): boolean {
    return this.ending;
  }

  /** True from the moment the last sentence (goodbye, handover) was asked for. */
  get isWrappingUp(): boolean {
    return this.ending || this.wrapUp !== undefined;
  }

  end(reason: string): void {
    this.beginWrapUp({ kind: 'hangup' }, reason, GOODBYE);
  }

  transfer(number: string): void {
    this.line.checkTransfer();
    this.beginWrapUp({ kind: 'transfer', number }, `transferred to ${number}`, HANDOVER);
  }

  /** The assistant cannot go on: the line's fallback, then the call closes as failed. */
  fail(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.channel.close(reason);
    void this.line.fallback(reason).finally(() => this.scope.close(reason, 'warn', 'failed'));
  }

  onResponseDone(responseId: string): void {
    const wrapUp = this.wrapUp;
    if (wrapUp?.responseId !== responseId) return;
    wrapUp.responseDone = true;
    this.finishIfPlayed();
  }

  /** Playback moved on (a mark echoed, the server's buffer stopped): the last sentence may be heard. */
  finishIfPlayed(): void {
    const wrapUp = this.wrapUp;
    if (wrapUp?.responseDone && !this.playback.isPlaying) this.execute(wrapUp);
  }

  /**
   * A human operator took the line: a goodbye or handover that the model, the application or the
   * console set going is the operator's to decide now, so it is dropped, and the call goes on.
   * The duration limit stays: the call still ends on time (with no goodbye: while the operator
   * holds the line, the model is not heard).
   */
  yieldToOperator(): void {
    const wrapUp = this.wrapUp;
    if (this.ending || !wrapUp || wrapUp.action.kind === 'limit') return;
    this.wrapUp = undefined;
    this.scheduler.withdraw(wrapUp.request);
    this.log.log(`an operator took the line: the call no longer ends (${wrapUp.reason})`);
  }

  /** A new Realtime session replaced a lost one: a last sentence it was saying is asked again. */
  onSessionReplaced(): void {
    const wrapUp = this.wrapUp;
    if (!wrapUp || wrapUp.responseDone || wrapUp.responseId === undefined) return;
    wrapUp.responseId = undefined;
    this.requestLastSentence(wrapUp);
  }

  /**
   * Once a second: the idle timeout (media calls pass the frames received so far; a SIP call has
   * no media to watch), the maximum call duration, a wrap-up that took too long.
   */
  tick(framesIn?: number): void {
    if (framesIn !== undefined && this.idle(framesIn)) {
      this.ending = true;
      this.scope.close(`no media from Twilio for ${this.idleSeconds} s`, 'warn', 'timeout');
      return;
    }
    const elapsedS = (Date.now() - this.context.startedAt.getTime()) / 1000;
    if (!this.wrapUp && elapsedS >= this.limits.maxCallDurationS) {
      this.beginWrapUp(
        { kind: 'limit' },
        `maximum call duration (${this.limits.maxCallDurationS} s) reached`,
        GOODBYE_AT_LIMIT,
      );
    }
    if (this.wrapUp && Date.now() >= this.wrapUp.deadline) this.execute(this.wrapUp);
  }

  private idle(framesIn: number): boolean {
    if (framesIn === this.framesAtLastTick) this.idleSeconds++;
    else this.idleSeconds = 0;
    this.framesAtLastTick = framesIn;
    return this.idleSeconds >= this.limits.mediaIdleTimeoutS;
  }

  /**
   * The call ends after one more assistant response has been heard. When end_call or
   * transfer_call asked for it, the response that follows the tool's output (which tells the
   * model to say it) is that sentence. Otherwise (the duration limit, a hook, the API, the
   * console) the bridge asks for it with its instructions, queued behind an active response,
   * even while some other tool runs: that tool's output still reaches the model, but the model
   * is not asked to go on after it, which the caller would hear after the goodbye.
   */
  private beginWrapUp(action: WrapUpAction, reason: string, instructions: string): void {
    if (this.wrapUp || this.ending) return;
    this.log.log(`ending the call after a last response: ${reason}`);
    const deadline = Date.now() + WRAP_UP_LIMIT_MS;
    const wrapUp: WrapUp = { action, reason, deadline, instructions, responseDone: false };
    this.wrapUp = wrapUp;
    if (this.tools.announcesEnding) {
      this.scheduler.claimNextCreated((id) => (wrapUp.responseId = id));
      return;
    }
    this.tools.dropContinuations(this.scheduler.activeResponseId);
    this.requestLastSentence(wrapUp);
  }

  private requestLastSentence(wrapUp: WrapUp): void {
    wrapUp.request = {
      reason: 'last sentence',
      params: { instructions: wrapUp.instructions },
      onCreated: (id) => (wrapUp.responseId = id),
    };
    this.scheduler.request(wrapUp.request);
  }

  private execute(wrapUp: WrapUp): void {
    if (this.ending) return;
    this.ending = true;
    const { action, reason } = wrapUp;
    switch (action.kind) {
      case 'limit':
        return this.after(this.line.endAtLimit(), reason, 'timeout');
      case 'hangup':
        return this.after(this.line.hangUp(), reason, 'completed');
      case 'transfer':
        return this.after(this.line.transfer(action.number), reason, 'transferred', {
          failedReason: `transfer to ${action.number} failed`,
        });
    }
  }

  /**
   * Closes the call once the line has acted; a transfer that did not happen is a failure, and
   * its record says so rather than "transferred to ...".
   */
  private after(
    request: Promise<boolean>,
    reason: string,
    outcome: CallOutcome,
    { failedReason = reason }: { failedReason?: string } = {},
  ): void {
    void request.then(
      (ok) =>
        outcome === 'transferred' && !ok
          ? this.scope.close(failedReason, 'warn', 'failed')
          : this.scope.close(reason, 'log', outcome),
      () => this.scope.close(failedReason, 'warn', 'failed'),
    );
  }
}
