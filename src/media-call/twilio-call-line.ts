import { Inject, Injectable, Scope } from '@nestjs/common';
import { twilioConfig, type TwilioConfig } from '../config/config.namespaces.js';
import { TwilioRestService } from '../twilio-rest/twilio-rest.service.js';
import { fallbackTwiml, transferTwiml } from '../twilio/twiml.js';
import { CallContext } from '../call/call-context.js';
import { CallLogger } from '../call/call-logger.js';
import { lineRequest, type CallLine } from '../call/call-transport.js';

/**
 * A media call's line: Twilio's REST API acts on the live call. Without TWILIO_AUTH_TOKEN there
 * is no REST client; closing the media stream then ends `<Connect>` (the call hangs up) and
 * transfers are refused up front. A per-call provider.
 */
@Injectable({ scope: Scope.REQUEST })
export class TwilioCallLine implements CallLine {
  constructor(
    private readonly context: CallContext,
    private readonly rest: TwilioRestService,
    private readonly log: CallLogger,
    @Inject(twilioConfig.KEY) private readonly twilio: TwilioConfig,
  ) {}

  checkTransfer(): void {
    if (!this.rest.available) throw new Error('transfers need TWILIO_AUTH_TOKEN');
  }

  hangUp(): Promise<boolean> {
    const { accountSid, callSid } = this.context;
    return this.request('hangup', () => this.rest.hangUp(accountSid, callSid));
  }

  transfer(number: string): Promise<boolean> {
    const { accountSid, callSid } = this.context;
    return this.request('transfer', () =>
      this.rest.redirect(accountSid, callSid, transferTwiml(number)),
    );
  }

  /** Closing the stream ends `<Connect>`: nothing to ask Twilio. */
  endAtLimit(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /**
   * The caller hears FALLBACK_MESSAGE (and is put through to FALLBACK_DIAL if set) through a REST
   * redirect of the live call, rather than dead air. Verbs after `<Connect>` would do the same but
   * would also play after every normal end.
   */
  async fallback(reason: string): Promise<boolean> {
    if (!this.rest.available) return false;
    this.log.error(`${reason}; handing the caller to the fallback`);
    const twiml = fallbackTwiml(this.twilio.fallbackMessage, this.twilio.fallbackDial);
    const { accountSid, callSid } = this.context;
    return this.request('fallback redirect', () => this.rest.redirect(accountSid, callSid, twiml));
  }

  /** Without a REST client the stream's end is the call's end: nothing to request. */
  private async request(what: string, request: () => Promise<void>): Promise<boolean> {
    if (!this.rest.available) return true;
    return lineRequest(this.log, 'Twilio REST API', what, request);
  }
}
