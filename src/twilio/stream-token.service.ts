import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { twilioConfig } from '../config/config.namespaces.js';
import type { TwilioConfig } from '../config/config.namespaces.js';

export type StreamTokenVerdict = 'valid' | 'missing' | 'invalid' | 'expired' | 'mismatched';

/**
 * The stream parameters a token is bound to: the ones the bridge itself decides by (the call's
 * numbers for resolvers and tools, its direction, its settings profile). A `start` that carries
 * one of them with another value than the TwiML gave is refused.
 */
export const BOUND_STREAM_PARAMETERS = ['From', 'To', 'Direction', 'profile'] as const;
export type BoundStreamParameters = Partial<
  Record<(typeof BOUND_STREAM_PARAMETERS)[number], string>
>;

/** Bytes of each bound parameter's keyed digest in the token. */
const PARAMETER_DIGEST_BYTES = 6;

/**
 * The per-call stream token: the TwiML webhook (whose signature we checked) issues it as a
 * `<Parameter>`, and the media stream's `start` must carry it for its own CallSid. This keeps the
 * stream authenticated even when a proxy strips `X-Twilio-Signature` from the upgrade (or Twilio
 * does not sign it), and works across instances since it needs no shared state:
 * `issuedAt.MAC.digests`, the MAC an HMAC-SHA256 (auth token) of `callSid.issuedAt.digests`,
 * expiring after STREAM_TOKEN_TTL_S. `digests` are keyed digests of the BOUND_STREAM_PARAMETERS
 * as the TwiML gave them (or of their absence), so whoever holds a token cannot start the call
 * as another caller or profile. A bound parameter missing from `start` is not checked: the call
 * then has no such value, which is nothing an attacker could choose.
 */
@Injectable()
export class StreamTokenService {
  constructor(@Inject(twilioConfig.KEY) private readonly twilioCfg: TwilioConfig) {}

  issue(callSid: string, parameters: BoundStreamParameters = {}, nowMs = Date.now()): string {
    const issuedAt = Math.floor(nowMs / 1000).toString(36);
    const digests = Buffer.concat(
      BOUND_STREAM_PARAMETERS.map((name) => this.digest(name, parameters[name])),
    ).toString('base64url');
    return `${issuedAt}.${this.mac(`${callSid}.${issuedAt}.${digests}`)}.${digests}`;
  }

  verify(
    callSid: string,
    parameters: Readonly<Record<string, string>>,
    nowMs = Date.now(),
  ): StreamTokenVerdict {
    const token = parameters.token;
    if (!token) return 'missing';
    const [issuedAt, mac, digests, extra] = token.split('.');
    if (!issuedAt || !mac || extra !== undefined) return 'invalid';
    // Two parts: a token an instance of the version before issued (during a rolling deploy).
    const signed =
      digests === undefined ? `${callSid}.${issuedAt}` : `${callSid}.${issuedAt}.${digests}`;
    const expected = Buffer.from(this.mac(signed));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
    const ageS = nowMs / 1000 - parseInt(issuedAt, 36);
    // A little slack for clock skew between the instance that issued it and this one.
    if (ageS > this.twilioCfg.streamTokenTtlS || ageS < -30) return 'expired';
    if (
      digests !== undefined &&
      !this.boundAsIssued(Buffer.from(digests, 'base64url'), parameters)
    ) {
      return 'mismatched';
    }
    return 'valid';
  }

  private boundAsIssued(issued: Buffer, parameters: Readonly<Record<string, string>>): boolean {
    if (issued.length !== BOUND_STREAM_PARAMETERS.length * PARAMETER_DIGEST_BYTES) return false;
    return BOUND_STREAM_PARAMETERS.every((name, i) => {
      const value = parameters[name];
      if (value === undefined) return true;
      const at = i * PARAMETER_DIGEST_BYTES;
      return this.digest(name, value).equals(issued.subarray(at, at + PARAMETER_DIGEST_BYTES));
    });
  }

  /** Keyed, so a token shows nothing of the numbers it is bound to. */
  private digest(name: string, value: string | undefined): Buffer {
    const text = value === undefined ? `parameter.${name}` : `parameter.${name}=${value}`;
    return createHmac('sha256', this.key())
      .update(text)
      .digest()
      .subarray(0, PARAMETER_DIGEST_BYTES);
  }

  private mac(text: string): string {
    return createHmac('sha256', this.key()).update(text).digest('base64url');
  }

  private key(): string {
    return this.twilioCfg.authToken?.reveal() ?? '';
  }
}
