import { Inject, Injectable, Scope } from '@nestjs/common';
import type { CallAcceptParams } from 'openai/resources/realtime/calls';
import { CallContext } from '../call/call-context.js';
import { CallLogger } from '../call/call-logger.js';
import { lineRequest, type CallLine } from '../call/call-transport.js';
import { twilioConfig, type TwilioConfig } from '../config/config.namespaces.js';
import { CallDirectory } from '../directory/call-directory.js';
import { OpenAICallsClient } from './openai-calls.client.js';

/**
 * A SIP call's line: OpenAI's calls API (accept, hangup, refer) acts on it. It remembers whether
 * the line is ours to hang up (accepted, not yet hung up, referred or closed by OpenAI), so a
 * call that ends for any other reason (shutdown, an internal error) never leaves OpenAI talking
 * to the caller with no one running its tools. In cluster mode the line is also held in the
 * directory from the accept until OpenAI confirms it down, so that a hang-up that failed, or
 * that the process's exit cut short, is made again by an instance that finds the line unheld.
 * A per-call provider (CALL_LINE on SIP).
 */
@Injectable({ scope: Scope.REQUEST })
export class SipCallLine implements CallLine {
  private accepted = false;
  private down = false;
  /** The directory's hold of the line, so that its release is written after it. */
  private held: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: CallContext,
    private readonly calls: OpenAICallsClient,
    private readonly log: CallLogger,
    private readonly directory: CallDirectory,
    @Inject(twilioConfig.KEY) private readonly twilio: TwilioConfig,
  ) {}

  /**
   * Answers the call with its session; throws when it failed. One that got no answer, or a
   * failure on OpenAI's side, may have answered the call all the same: the line counts as ours
   * to hang up (hangUpIfLive), so the caller is not left with an assistant nobody runs.
   */
  async accept(session: CallAcceptParams): Promise<void> {
    try {
      await this.calls.accept(this.context.callSid, session);
    } catch (error) {
      if (mayHaveLanded(error)) this.answered();
      throw error;
    }
    this.answered();
  }

  private answered(): void {
    this.accepted = true;
    this.held = this.directory.holdLine(this.context.callSid);
  }

  /** OpenAI closed the sideband, or the line was handed on: nothing left to hang up. */
  closed(): void {
    this.down = true;
    void this.confirmDown();
  }

  /** A SIP REFER needs nothing the bridge could lack (the trunk must allow it). */
  checkTransfer(): void {}

  hangUp(): Promise<boolean> {
    return this.request('hangup', () => this.hangupCall());
  }

  async transfer(number: string): Promise<boolean> {
    const target = sipReferTarget(number);
    if (
      await this.request('transfer (refer)', () => this.calls.refer(this.context.callSid, target))
    )
      return true;
    // A transfer that did not happen must not leave the caller with a silent assistant.
    await this.request('hangup', () => this.hangupCall());
    return false;
  }

  endAtLimit(): Promise<boolean> {
    return this.hangUp();
  }

  /**
   * The caller is put through to FALLBACK_DIAL when it is set (REFER, hung up if that fails, as
   * any transfer), else hung up.
   */
  fallback(reason: string): Promise<boolean> {
    const dial = this.twilio.fallbackDial;
    this.log.error(`${reason}; ${dial ? 'transferring to FALLBACK_DIAL' : 'hanging up'}`);
    return dial ? this.transfer(dial) : this.hangUp();
  }

  /**
   * The call record ends while the line is still up (shutdown drain, internal error). Resolves
   * once the hang-up is answered or has given up (its failure is logged): never rejects.
   */
  async hangUpIfLive(): Promise<void> {
    if (this.accepted && !this.down) await this.hangUp();
  }

  /** The call-control API: at once, and a refusal reaches the API's caller (502). */
  async hangUpNow(): Promise<void> {
    await this.calls.hangup(this.context.callSid);
    // Only now: after a failure the line is still up, and still ours to hang up at close.
    this.down = true;
    await this.confirmDown();
  }

  async transferNow(target: string): Promise<void> {
    await this.calls.refer(this.context.callSid, sipReferTarget(target));
    this.down = true;
    await this.confirmDown();
  }

  /** A calls-API request about this call: from here on the line is not ours to hang up. */
  private async request(what: string, request: () => Promise<void>): Promise<boolean> {
    this.down = true;
    const done = await lineRequest(this.log, 'OpenAI calls API', what, request);
    // Awaited, so that a drain waiting for the hang-up also waits for this (before Redis closes).
    if (done) await this.confirmDown();
    return done;
  }

  /** A hang-up; OpenAI knowing no such call (404: an accept that did not land) is as good. */
  private async hangupCall(): Promise<void> {
    try {
      await this.calls.hangup(this.context.callSid);
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }

  /** The line is down at OpenAI: the directory holds it no more (after its hold, if any). */
  private async confirmDown(): Promise<void> {
    if (!this.accepted) return;
    await this.held;
    await this.directory.releaseLine(this.context.callSid);
  }
}

/**
 * Whether a failed accept may have answered the call: no answer (a timeout, a lost connection),
 * or OpenAI's own failure (5xx) or a status the SDK counts as transient (408, 409, 429). Any other
 * answer (400, 401, 403, 404, 422 ...) refused it.
 */
function mayHaveLanded(error: unknown): boolean {
  const { status, sent } = error as { status?: number; sent?: boolean };
  if (sent === false) return false;
  return status === undefined || status >= 500 || [408, 409, 429].includes(status);
}

/** `+15551230003` -> `tel:+15551230003`; `sip:` and `tel:` URIs as they are. */
function sipReferTarget(target: string): string {
  return /^(sips?|tel):/i.test(target) ? target : `tel:${target}`;
}
