import type OpenAI from 'openai';
import { InvalidWebhookSignatureError } from 'openai';
import {
  MAX_SIGNATURE_HEADER_LENGTH,
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

/** Printable ASCII without spaces: ids are echoed into logs and kept as de-duplication keys. */
const WEBHOOK_ID = /^[\x21-\x7e]+$/;
/** Seconds since the epoch; the SDK would read "17e8" as 17, so the form is ours to check. */
const TIMESTAMP = /^[0-9]{1,12}$/;
/** Exact bytes: a BOM is kept and invalid UTF-8 refused, so the text signed is the text sent. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks a webhook delivery as OpenAI signs it (Standard Webhooks), with the `openai` package's
 * `webhooks.verifySignature`: HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${body}`
 * keyed by the `whsec_` secret, any `v1,` signature of the header may match, a timestamp more
 * than WEBHOOK_TOLERANCE_S from our clock is refused. What is ours: the headers' shape and size
 * before any HMAC (400), and the answer's status (401 for a signature or timestamp refused).
 * Without OPENAI_WEBHOOK_SECRET there is no verifier and the route answers 404.
 */
export class WebhookVerifier {
  constructor(
    private readonly client: OpenAI,
    /** `whsec_` + base64: the config schema checks the form before the service starts. */
    private readonly secret: string,
  ) {}

  /** Checks one delivery; the body must be the bytes exactly as received. */
  async verify(headers: WebhookHeaders, rawBody: Buffer): Promise<WebhookVerdict> {
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
    let payload: string;
    try {
      payload = UTF8.decode(rawBody);
    } catch {
      return { ok: false, status: 400, reason: 'the body is not UTF-8' };
    }
    try {
      await this.client.webhooks.verifySignature(
        payload,
        {
          'webhook-id': id,
          'webhook-timestamp': timestamp,
          'webhook-signature': signature,
        },
        this.secret,
        WEBHOOK_TOLERANCE_S,
      );
    } catch (error) {
      // Anything else (no WebCrypto, a secret it cannot use) is ours to fix: a 500, logged.
      if (!(error instanceof InvalidWebhookSignatureError)) throw error;
      return { ok: false, status: 401, reason: error.message };
    }
    return { ok: true, id };
  }
}
