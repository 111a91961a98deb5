import { EventEmitter2 } from '@nestjs/event-emitter';
import { Redis } from 'ioredis';
import { redisPerSpec } from '../../test/support/redis-per-spec.js';
import { waitUntil } from '../../test/support/wait.js';
import { Secret } from '../config/secret.js';
import { MemorySessionStore } from './memory-session-store.js';
import { RedisCallDirectory } from './redis-call-directory.js';
import { redisKeys } from './redis-keys.js';
import type { SessionStore } from './session-store.js';

// The session store's contract, held by both implementations; then what only Redis adds: one
// store for every instance, nothing but keyed hashes in it, and no way in while it is away.

const SECRET = new Secret('spec-cluster-secret-0123456789abcdef');
const HOUR_MS = 60 * 60_000;
const MAX = 3;

const spec = redisPerSpec();

/** Polls an async `condition` until it holds. */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function redisStore(instanceId = 'a', secret = SECRET): Promise<SessionStore> {
  const directory = await RedisCallDirectory.connect({
    url: spec.redis.url,
    secret,
    instanceId,
    events: new EventEmitter2({ wildcard: true, delimiter: '.' }),
    observer: {
      storeState: () => undefined,
      storeError: () => undefined,
      busRejected: () => undefined,
    },
    log: { log: () => undefined, warn: () => undefined },
  });
  spec.open.push(directory);
  return directory.sessionStore();
}

describe.each([
  ['in memory', () => Promise.resolve(new MemorySessionStore())],
  ['in Redis', () => redisStore()],
])('SessionStore %s', (_name, make: () => Promise<SessionStore>) => {
  let store: SessionStore;
  beforeEach(async () => (store = await make()));

  it('keys a token by a keyed hash: the same token the same key, never the token', () => {
    const key = store.keyOf('token-1');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.keyOf('token-1')).toBe(key);
    expect(store.keyOf('token-2')).not.toBe(key);
  });

  it('answers the expiry of a stored session, nothing for an unknown or expired one', async () => {
    const now = Date.now();
    expect(await store.add('k1', now + HOUR_MS, MAX, now)).toBe(true);
    expect(await store.expiries(['k1', 'unknown'], now)).toEqual([now + HOUR_MS, undefined]);
    expect(await store.expiries(['k1'], now + HOUR_MS)).toEqual([undefined]);
    expect(await store.expiries([], now)).toEqual([]);
  });

  it('ends sessions on removal and reports each end', async () => {
    const ended: string[] = [];
    store.onEnded((key) => ended.push(key));
    const now = Date.now();
    await store.add('k1', now + HOUR_MS, MAX, now);
    await store.add('k2', now + HOUR_MS, MAX, now);
    await store.remove(['k1']);
    expect(await store.expiries(['k1', 'k2'], now)).toEqual([undefined, now + HOUR_MS]);
    await waitUntil(() => ended.includes('k1'), 'the end reported');
    expect(ended).not.toContain('k2');
  });

  it('holds at most maxSessions, ending (and reporting) the oldest', async () => {
    const ended: string[] = [];
    store.onEnded((key) => ended.push(key));
    const now = Date.now();
    for (let i = 0; i <= MAX; i++) await store.add(`k${i}`, now + HOUR_MS + i, MAX, now);
    expect(await store.size(now)).toBe(MAX);
    expect((await store.expiries(['k0', 'k3'], now))?.map(Boolean)).toEqual([false, true]);
    await waitUntil(() => ended.includes('k0'), 'the oldest reported ended');
  });
});

describe('RedisSessionStore', () => {
  it('is one store for every instance: a login on A holds on B, a logout on B ends it on A', async () => {
    const a = await redisStore('a');
    const b = await redisStore('b');
    const endedOnA: string[] = [];
    a.onEnded((key) => endedOnA.push(key));
    const key = a.keyOf('the-token');
    expect(b.keyOf('the-token')).toBe(key);
    const now = Date.now();
    await a.add(key, now + HOUR_MS, MAX, now);
    expect(await b.expiries([key], now)).toEqual([now + HOUR_MS]);
    await b.remove([key]);
    expect(await a.expiries([key], now)).toEqual([undefined]);
    // The end reaches A's listeners over the bus, so A closes what the session opened there.
    await waitUntil(() => endedOnA.includes(key), 'the end published to A');
  });

  it('keeps only the keyed hash in Redis, its signed expiry, and a TTL that ends with it', async () => {
    const store = await redisStore();
    const key = store.keyOf('secret-token-value');
    const now = Date.now();
    await store.add(key, now + HOUR_MS, MAX, now);
    const admin = new Redis(spec.redis.url);
    try {
      const names = await admin.keys('*');
      expect(names.filter((name) => name !== 'bridge:secret-check').sort()).toEqual([
        redisKeys.consoleSession(key),
        redisKeys.consoleSessions,
      ]);
      const record = (await admin.get(redisKeys.consoleSession(key)))!;
      expect(record).not.toContain('secret-token-value');
      expect(JSON.parse((JSON.parse(record) as { body: string }).body)).toEqual({
        expiresAt: now + HOUR_MS,
      });
      const ttl = await admin.pttl(redisKeys.consoleSession(key));
      expect(ttl).toBeGreaterThan(HOUR_MS - 5_000);
      expect(ttl).toBeLessThanOrEqual(HOUR_MS);
      expect(await admin.pttl(redisKeys.consoleSessions)).toBeLessThanOrEqual(HOUR_MS);
    } finally {
      admin.disconnect();
    }
  });

  it('lets no record in that it did not sign, nor a session keyed under another secret', async () => {
    const store = await redisStore();
    const admin = new Redis(spec.redis.url);
    // An instance under another secret would refuse to start beside this one: its check goes.
    await admin.del('bridge:secret-check');
    const other = await redisStore('b', new Secret('another-cluster-secret-0123456789abcd'));
    const now = Date.now();
    try {
      const forged = store.keyOf('forged');
      await admin.set(
        redisKeys.consoleSession(forged),
        JSON.stringify({ expiresAt: now + HOUR_MS }),
      );
      expect(await store.expiries([forged], now)).toEqual([undefined]);
    } finally {
      admin.disconnect();
    }
    await other.add(other.keyOf('t'), now + HOUR_MS, MAX, now);
    expect(await store.expiries([store.keyOf('t')], now)).toEqual([undefined]);
  });

  it('lets nobody in and makes no session while Redis is away; a logout meanwhile is written once it is back', async () => {
    const store = await redisStore();
    const now = Date.now();
    await store.add('k1', now + HOUR_MS, MAX, now);
    spec.redis.pause();
    await eventually(async () => (await store.expiries(['k1'], now)) === undefined, 'Redis down');
    expect(await store.add('k2', now + HOUR_MS, MAX, now)).toBe(false);
    await store.remove(['k1']);
    // Redis is paused rather than restarted (a restart without persistence loses k1 anyway).
    spec.redis.resume();
    await eventually(
      async () => (await store.expiries(['k1'], now)) !== undefined,
      'Redis back',
      10_000,
    );
    const admin = new Redis(spec.redis.url);
    try {
      expect(await admin.exists(redisKeys.consoleSession('k1'))).toBe(0);
      expect(await admin.zscore(redisKeys.consoleSessions, 'k1')).toBeNull();
    } finally {
      admin.disconnect();
    }
  });
});
