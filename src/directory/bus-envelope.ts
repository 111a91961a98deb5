import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Secret } from '../config/secret.js';

/**
 * A bus message (or a record written to Redis) must be this fresh, either way of now: an old
 * message replayed, or one from a clock far off, is refused. Instances are expected to run NTP.
 */
export const BUS_MESSAGE_WINDOW_MS = 30_000;

/** Why a message or record read from Redis was dropped (the metric's `reason` label). */
export type BusRejection =
  'oversize' | 'malformed' | 'bad_signature' | 'expired' | 'invalid' | 'replayed';

/** Bumped if the signed text ever changes, so two formats never verify each other. */
const VERSION = 1;
const MAC_HEX_LENGTH = 64;

const envelopeSchema = z.strictObject({
  v: z.literal(VERSION),
  ts: z.number().int().nonnegative(),
  body: z.string(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

export type Opened = { ok: true; body: unknown; ts: number } | { ok: false; reason: BusRejection };

/**
 * The cluster bus's HMAC envelope: `{"v":1,"ts":<ms>,"body":"<JSON>","mac":"<hex>"}`, where
 * `mac` is HMAC-SHA256 under CLUSTER_SECRET of `bridge-bus/v1`, the channel or key the message
 * travels on, `ts` and `body`, one per line. The channel is signed so that a message captured on
 * one channel (a transfer for instance A, a record of call X) cannot be replayed on another.
 * Integrity and origin only: Redis still sees every message in clear.
 */
export class BusEnvelope {
  readonly #key: Buffer;

  constructor(
    secret: Secret,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = Buffer.from(secret.reveal(), 'utf8');
  }

  /** The message, signed for `channel` at this moment. */
  seal(channel: string, body: unknown): string {
    const text = JSON.stringify(body);
    const ts = this.now();
    return JSON.stringify({ v: VERSION, ts, body: text, mac: this.mac(channel, ts, text) });
  }

  /**
   * The body, if `text` is an envelope signed for `channel` under our secret, and no older (or
   * further ahead) than `maxAgeMs`. The body is still untrusted JSON: validate it.
   */
  open(channel: string, text: string, maxAgeMs = BUS_MESSAGE_WINDOW_MS): Opened {
    const envelope = envelopeSchema.safeParse(parseJson(text));
    if (!envelope.success) return { ok: false, reason: 'malformed' };
    const { ts, body, mac } = envelope.data;
    const expected = Buffer.from(this.mac(channel, ts, body), 'hex');
    const given = Buffer.from(mac, 'hex');
    if (given.length !== MAC_HEX_LENGTH / 2 || !timingSafeEqual(expected, given)) {
      return { ok: false, reason: 'bad_signature' };
    }
    if (this.age(ts) > maxAgeMs) return { ok: false, reason: 'expired' };
    const parsed = parseJson(body);
    return parsed === undefined
      ? { ok: false, reason: 'malformed' }
      : { ok: true, body: parsed, ts };
  }

  /** How far from now `ts` (an opened message's) is, either way. */
  age(ts: number): number {
    return Math.abs(this.now() - ts);
  }

  /**
   * Equal on instances that share the secret, and nothing that signs a message (a domain of its
   * own): how an instance tells, at start, that it was given another secret than the cluster's.
   */
  fingerprint(): string {
    return createHmac('sha256', this.#key).update('bridge-secret-check/v1').digest('hex');
  }

  private mac(channel: string, ts: number, body: string): string {
    return createHmac('sha256', this.#key)
      .update(`bridge-bus/v${VERSION}\n${channel}\n${ts}\n${body}`)
      .digest('hex');
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
