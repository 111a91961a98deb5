import { createHmac } from 'node:crypto';
import type { Result } from 'ioredis';
import type { Secret } from '../config/secret.js';
import { sessionsEndedSchema, storedSessionSchema, type SessionsEnded } from './bus-messages.js';
import type { ClusterChannels } from './cluster-channels.js';
import { MAX_PENDING_SESSION_ENDS } from './cluster.constants.js';
import { redisKeys } from './redis-keys.js';
import { ADD_CONSOLE_SESSION } from './redis-scripts.js';
import type { RedisStore } from './redis-store.js';
import { keyedHash, SessionStore } from './session-store.js';
import type { SignedBus } from './signed-bus.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    addConsoleSession(
      index: string,
      session: string,
      prefix: string,
      hash: string,
      ttlMs: number,
      max: number,
      sealed: string,
    ): Result<string[], Context>;
  }
}

/** A session record is checked for its signature and its own expiry, not for freshness. */
const RECORD_MAX_AGE_MS = Number.POSITIVE_INFINITY;
/** Session keys named in one bus message. */
const KEYS_PER_MESSAGE = 100;

/**
 * Console sessions in Redis (cluster mode): `bridge:console-session:<hash>` holds the session's
 * signed expiry with a TTL to match, `bridge:console-sessions` indexes them for MAX_SESSIONS,
 * and each end is published on `bridge:console-sessions:ended` so that every instance closes
 * what the session opened there. The hash is keyed with CLUSTER_SECRET: whoever can read Redis
 * sees no token, and whoever can write it cannot make a key that any token maps to.
 *
 * Redis away: nothing is let in (no lookup answers), no session is made, and a logout is kept
 * here (its session refused by this instance at once) and written when Redis is back.
 */
export class RedisSessionStore extends SessionStore {
  readonly #hashKey: Buffer;
  private readonly listeners: Array<(key: string) => void> = [];
  /** Ends Redis has not taken yet (it was away); insertion order is age. */
  private readonly pending = new Set<string>();
  private subscribed = false;

  constructor(
    private readonly store: RedisStore,
    private readonly bus: SignedBus,
    private readonly channels: ClusterChannels,
    secret: Secret,
  ) {
    super();
    // Its own key, derived from the secret, so a session hash is never a bus signature.
    this.#hashKey = createHmac('sha256', secret.reveal())
      .update('bridge-console-session/v1')
      .digest();
    store.client.defineCommand('addConsoleSession', { numberOfKeys: 2, lua: ADD_CONSOLE_SESSION });
  }

  keyOf(token: string): string {
    return keyedHash(this.#hashKey, token);
  }

  async add(
    key: string,
    expiresAt: number,
    maxSessions: number,
    now = Date.now(),
  ): Promise<boolean> {
    await this.flush();
    const record = redisKeys.consoleSession(key);
    const sealed = this.bus.seal(record, { expiresAt });
    const evicted = await this.store.attempt('session', () =>
      this.store.client.addConsoleSession(
        redisKeys.consoleSessions,
        record,
        redisKeys.consoleSessionPrefix,
        key,
        Math.max(1, expiresAt - now),
        maxSessions,
        sealed,
      ),
    );
    if (evicted === undefined) return false;
    await this.ended(evicted);
    return true;
  }

  async expiries(keys: string[], now = Date.now()): Promise<Array<number | undefined> | undefined> {
    if (keys.length === 0) return [];
    await this.flush();
    const records = keys.map((key) => redisKeys.consoleSession(key));
    const values = await this.store.attempt('session', () => this.store.client.mget(records));
    if (values === undefined) return undefined;
    return values.map((text, i) => {
      if (!text || this.pending.has(keys[i])) return undefined;
      const stored = this.bus.open(records[i], text, storedSessionSchema, RECORD_MAX_AGE_MS);
      return stored && stored.expiresAt > now ? stored.expiresAt : undefined;
    });
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    // Whatever Redis does, this instance refuses them from now on.
    this.report(keys);
    const done = await this.store.attempt('session', () =>
      this.store.client
        .multi()
        .del(...keys.map((key) => redisKeys.consoleSession(key)))
        .zrem(redisKeys.consoleSessions, ...keys)
        .exec(),
    );
    if (done === undefined) {
      for (const key of keys) this.keep(key);
      return;
    }
    await this.publish(keys);
  }

  onEnded(listener: (key: string) => void): void {
    this.listeners.push(listener);
    if (this.subscribed) return;
    this.subscribed = true;
    const channel = redisKeys.consoleSessionsEnded;
    // A failed subscription loses only the message: ConsoleSessions re-checks what is open.
    this.channels
      .subscribe(channel, (raw) => {
        const message = this.channels.open(channel, raw, sessionsEndedSchema);
        // A replayed message names sessions that are over already: it can end nothing new.
        if (message) this.report(message.keys);
      })
      .catch(() => undefined);
  }

  async size(now = Date.now()): Promise<number> {
    const count = await this.store.attempt('session', () =>
      this.store.client.zcount(redisKeys.consoleSessions, `(${now}`, '+inf'),
    );
    return count ?? 0;
  }

  /** Writes the logouts kept while Redis was away (Redis is back, or before any use). */
  async flush(): Promise<void> {
    if (this.pending.size === 0 || !this.store.isUp) return;
    const held = [...this.pending];
    this.pending.clear();
    await this.remove(held);
  }

  private async ended(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    this.report(keys);
    await this.publish(keys);
  }

  private async publish(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += KEYS_PER_MESSAGE) {
      const message: SessionsEnded = {
        type: 'sessions-ended',
        keys: keys.slice(i, i + KEYS_PER_MESSAGE),
      };
      await this.channels.publish(redisKeys.consoleSessionsEnded, message);
    }
  }

  private keep(key: string): void {
    this.pending.delete(key);
    this.pending.add(key);
    if (this.pending.size > MAX_PENDING_SESSION_ENDS) {
      this.pending.delete(this.pending.values().next().value!);
    }
  }

  private report(keys: string[]): void {
    for (const key of keys) for (const listener of this.listeners) listener(key);
  }
}
