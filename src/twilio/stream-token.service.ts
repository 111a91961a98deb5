import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { twilioConfig } from '../config/config.namespaces.js';
import type { TwilioConfig } from '../config/config.namespaces.js';

export type StreamTokenVerdict = 'valid' | 'missing' | 'invalid' | 'expired';

/**
 * The per-call stream token: the TwiML webhook (whose signature we checked) issues it as a
 * `<Parameter>`, and the media stream's `start` must carry it for its own CallSid. This keeps the
 * stream authenticated even when a proxy strips `X-Twilio-Signature` from the upgrade (or Twilio
 * does not sign it), and works across instances since it needs no shared state: it is
 * `issuedAt.HMAC-SHA256(authToken, "callSid.issuedAt")`, expiring after STREAM_TOKEN_TTL_S.
 */
@Injectable()
export class StreamTokenService {
  constructor(@Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig) {}

  issue(callSid: string, nowMs = Date.now()): string {
    const issuedAt = Math.floor(nowMs / 1000).toString(36);
    return `${issuedAt}.${this.mac(callSid, issuedAt)}`;
  }

  verify(callSid: string, token: string | undefined, nowMs = Date.now()): StreamTokenVerdict {
    if (!token) return 'missing';
    const [issuedAt, mac, extra] = token.split('.');
    if (!issuedAt || !mac || extra !== undefined) return 'invalid';
    const expected = Buffer.from(this.mac(callSid, issuedAt));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    const ageS = nowMs / 1000 - parseInt(issuedAt, 36);
    // A little slack for clock skew between the instance that issued it and this one.
    if (ageS > this.twilioCfg.streamTokenTtlS || ageS < -30) return 'expired';
    return 'valid';
  }

  private mac(callSid: string, issuedAt: string): string {
    return createHmac('sha256', this.twilioCfg.authToken?.reveal() ?? '')
      .update(`${callSid}.${issuedAt}`)
      .digest('base64url');
  }
}
