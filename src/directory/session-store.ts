import { createHmac } from 'node:crypto';

/**
 * Where console sessions live: this process's memory (MemorySessionStore) or, in cluster mode,
 * Redis (RedisSessionStore), so that a login on one instance holds on every other and survives
 * a restart. Chosen with the directory (CallDirectory.sessionStore): code above it never knows
 * which. A session is stored under a keyed hash of its token, never the token, with its expiry.
 */
export abstract class SessionStore {
  /** The key a session token is stored and named under (HMAC-SHA256, base64url). */
  abstract keyOf(token: string): string;

  /**
   * Stores a new session until `expiresAt` (ms); beyond `maxSessions` the oldest end (and their
   * ends are reported like a logout's). False when the store cannot be written (Redis down).
   */
  abstract add(key: string, expiresAt: number, maxSessions: number, now?: number): Promise<boolean>;

  /**
   * The expiry of each key's session, undefined for one that is unknown, ended or expired; the
   * whole answer undefined when the store cannot answer (Redis down). One round trip.
   */
  abstract expiries(keys: string[], now?: number): Promise<Array<number | undefined> | undefined>;

  /** Ends these sessions everywhere (a logout); each end is reported to `onEnded` listeners. */
  abstract remove(keys: string[]): Promise<void>;

  /**
   * Hears every session that ends before its time, on any instance (a logout, or the oldest
   * pushed out by MAX_SESSIONS): what it opened is closed. Expiry is not reported.
   */
  abstract onEnded(listener: (key: string) => void): void;

  /** Sessions held now (tests and the bound's check). */
  abstract size(now?: number): Promise<number>;
}

/** A session key: 32 bytes of HMAC, base64url. */
export const SESSION_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** HMAC-SHA256 of `token` under `key`, base64url: what a session is stored under. */
export function keyedHash(key: Buffer, token: string): string {
  return createHmac('sha256', key).update(token).digest('base64url');
}
