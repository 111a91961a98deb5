import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  MAX_SIGNATURE_HEADER_LENGTH,
  MAX_SIGNATURES,
  MAX_WEBHOOK_ID_LENGTH,
  WEBHOOK_TOLERANCE_S,
} from './sip.constants.js';

/** The three Standard Webhooks headers, as received (any may be missing). */
export interface WebhookHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

export type WebhookVerdict =
  { ok: true; id: string } | { ok: false; status: 400 | 401; reason: string };

const SECRET_PREFIX = 'whsec_';
/** Printable ASCII without spaces: ids are echoed into logs. */
const WEBHOOK_ID = /^[\x21-\x7e]+$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const SHA256_BYTES = 32;

/**
 * Standard Webhooks verification, as OpenAI signs its webhooks: HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${raw body}` keyed by the base64 part of the `whsec_`
 * secret; `webhook-signature` holds space-separated `v1,<base64>` entries, any of which may
 * match; a timestamp more than 300 s from our clock is refused so a captured delivery cannot be
 * replayed later. Written on `node:crypto` because the `openai` package that offers
 * `webhooks.unwrap` declares Node >= 22, and this service runs on Node 20 too; a test checks it
 * against the independent `standardwebhooks` package.
 */
export class WebhookVerifier {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly toleranceS = WEBHOOK_TOLERANCE_S,
  ) {
    if (!secret.startsWith(SECRET_PREFIX)) throw new Error('the webhook secret must start whsec_');
    this.key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
    if (this.key.length === 0) throw new Error('the webhook secret has no key after whsec_');
  }

  /** Checks one delivery; the body must be the bytes exactly as received. */
  verify(headers: WebhookHeaders, rawBody: Buffer, nowMs = Date.now()): WebhookVerdict {
    const { id, timestamp, signature } = headers;
    if (!id || !timestamp || !signature) {
      const missing = [
        !id && 'webhook-id',
        !timestamp && 'webhook-timestamp',
        !signature && 'webhook-signature',
      ].filter(Boolean);
      return { ok: false, status: 400, reason: `missing header ${missing.join(', ')}` };
    }
    if (id.length > MAX_WEBHOOK_ID_LENGTH || !WEBHOOK_ID.test(id)) {
      return { ok: false, status: 400, reason: 'malformed webhook-id' };
    }
    if (!TIMESTAMP.test(timestamp)) {
      return { ok: false, status: 400, reason: 'malformed webhook-timestamp' };
    }
    if (signature.length > MAX_SIGNATURE_HEADER_LENGTH) {
      return { ok: false, status: 400, reason: 'webhook-signature too long' };
    }
    const skewS = Math.abs(Math.floor(nowMs / 1000) - Number(timestamp));
    if (skewS > this.toleranceS) {
      return {
        ok: false,
        status: 401,
        reason: `webhook-timestamp is ${skewS} s from now (more than ${this.toleranceS} s)`,
      };
    }
    const expected = createHmac('sha256', this.key)
      .update(`${id}.${timestamp}.`)
      .update(rawBody)
      .digest();
    const candidates = signature.split(' ').filter(Boolean).slice(0, MAX_SIGNATURES);
    for (const candidate of candidates) {
      const comma = candidate.indexOf(',');
      // Only version 1 (HMAC-SHA256) exists; other versions are skipped, not failed.
      if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
      const given = Buffer.from(candidate.slice(comma + 1), 'base64');
      if (given.length === SHA256_BYTES && timingSafeEqual(given, expected))
        return { ok: true, id };
    }
    return { ok: false, status: 401, reason: 'no webhook-signature matches' };
  }

  /** A `webhook-signature` value for this body: for tests and local tools that play OpenAI. */
  sign(id: string, timestamp: string, rawBody: Buffer | string): string {
    const mac = createHmac('sha256', this.key)
      .update(`${id}.${timestamp}.`)
      .update(rawBody)
      .digest('base64');
    return `v1,${mac}`;
  }
}
