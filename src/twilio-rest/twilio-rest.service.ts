import { Inject, Injectable, Logger } from '@nestjs/common';
import twilio from 'twilio';
import { twilioConfig } from '../config/config.namespaces.js';
import type { TwilioConfig } from '../config/config.namespaces.js';
import { TWILIO_REST_TIMEOUT_MS } from './twilio-rest.constants.js';

type TwilioClient = ReturnType<typeof twilio>;

const numberInfo = (n: PhoneNumberInfo & { voiceUrl: string; voiceMethod: string }) => ({
  sid: n.sid,
  phoneNumber: n.phoneNumber,
  friendlyName: n.friendlyName,
  voiceUrl: n.voiceUrl || undefined,
  voiceMethod: n.voiceMethod || undefined,
});

export interface PhoneNumberInfo {
  sid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceUrl?: string;
  voiceMethod?: string;
}

/**
 * Live-call control through Twilio's REST API (the `twilio` package's client). One client per
 * account, made on first use; TWILIO_API_BASE_URL points it elsewhere (a proxy, or a test fake).
 */
@Injectable()
export class TwilioRestService {
  private readonly log = new Logger(TwilioRestService.name);
  private readonly clients = new Map<string, TwilioClient>();

  constructor(@Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig) {}

  /** True when calls can be controlled (an auth token is configured). */
  get available(): boolean {
    return this.twilioCfg.authToken !== undefined;
  }

  /** Replaces what a live call runs with this TwiML (its media stream then stops). */
  async redirect(accountSid: string, callSid: string, twiml: string): Promise<void> {
    await this.client(accountSid).calls(callSid).update({ twiml });
  }

  /** Places an outbound call; Twilio fetches its TwiML from `twimlUrl` once it is answered. */
  async createCall(options: {
    accountSid: string;
    to: string;
    from: string;
    twimlUrl: string;
  }): Promise<{ sid: string; status: string }> {
    const call = await this.client(options.accountSid).calls.create({
      to: options.to,
      from: options.from,
      url: options.twimlUrl,
      method: 'POST',
    });
    return { sid: call.sid, status: call.status };
  }

  /** Hangs up a live call; a call that is already gone (20404) counts as done. */
  async hangUp(accountSid: string, callSid: string): Promise<void> {
    try {
      await this.client(accountSid).calls(callSid).update({ status: 'completed' });
    } catch (error) {
      if ((error as { code?: number }).code === 20404) return;
      throw error;
    }
  }

  /** The account's phone numbers and where their voice webhook points (the console's checklist). */
  async listNumbers(accountSid: string, limit: number): Promise<PhoneNumberInfo[]> {
    const numbers = await this.client(accountSid).incomingPhoneNumbers.list({ limit });
    return numbers.map(numberInfo);
  }

  /** Points a number's voice webhook at `url` (POST). */
  async setVoiceUrl(accountSid: string, numberSid: string, url: string): Promise<PhoneNumberInfo> {
    const n = await this.client(accountSid)
      .incomingPhoneNumbers(numberSid)
      .update({ voiceUrl: url, voiceMethod: 'POST' });
    return numberInfo(n);
  }

  private client(accountSid: string): TwilioClient {
    const sid = this.twilioCfg.accountSid ?? accountSid;
    let client = this.clients.get(sid);
    if (!client) {
      const authToken = this.twilioCfg.authToken?.reveal();
      if (!authToken) throw new Error('TWILIO_AUTH_TOKEN is not set: cannot control calls');
      // A call waits on these requests (a hang-up, a fallback): never for long.
      client = twilio(sid, authToken, { timeout: TWILIO_REST_TIMEOUT_MS });
      if (this.twilioCfg.apiBaseUrl) {
        client.api.baseUrl = this.twilioCfg.apiBaseUrl;
        this.log.log(`Twilio REST calls go to ${this.twilioCfg.apiBaseUrl}`);
      }
      this.clients.set(sid, client);
    }
    return client;
  }
}
