import { EventEmitter2 } from '@nestjs/event-emitter';
import { Redis } from 'ioredis';
import { redisPerSpec } from '../../test/support/redis-per-spec.js';
import { freePort, TestRedis } from '../../test/support/redis-server.js';
import { TcpProxy } from '../../test/support/tcp-proxy.js';
import { waitUntil } from '../../test/support/wait.js';
import { Secret } from '../config/secret.js';
import { BusEnvelope, type BusRejection } from './bus-envelope.js';
import type { ControlCommand, LiveCall, SharedCallEvent } from './call-directory.js';
import { CONTROL_ACCEPT_WINDOW_MS, REDIS_CLOSE_MS } from './cluster.constants.js';
import { ClusterSecretMismatchError } from './redis-secret-check.js';
import { InstanceIdTakenError } from './redis-store.js';
import {
  RedisCallDirectory,
  RedisUnavailableError,
  type RedisDirectoryOptions,
} from './redis-call-directory.js';

// Two (or three) directories on one real redis-server stand for instances of one cluster.

const SECRET = new Secret('spec-cluster-secret-0123456789abcdef');
const quiet = {
  storeState: () => undefined,
  storeError: () => undefined,
  busRejected: () => undefined,
};

const spec = redisPerSpec();
const { open } = spec;

interface Instance {
  directory: RedisCallDirectory;
  events: EventEmitter2;
  states: boolean[];
  errors: string[];
  rejected: BusRejection[];
  lines: string[];
}

async function instance(
  instanceId: string,
  options: Partial<RedisDirectoryOptions> = {},
): Promise<Instance> {
  const events = new EventEmitter2({ wildcard: true, delimiter: '.' });
  const states: boolean[] = [];
  const errors: string[] = [];
  const rejected: BusRejection[] = [];
  const lines: string[] = [];
  const directory = await RedisCallDirectory.connect({
    url: spec.redis.url,
    secret: SECRET,
    instanceId,
    events,
    observer: {
      storeState: (up) => states.push(up),
      storeError: (op) => errors.push(op),
      busRejected: (reason) => rejected.push(reason),
    },
    log: { log: (line) => lines.push(line), warn: (line) => lines.push(line) },
    ...options,
  });
  open.push(directory);
  return { directory, events, states, errors, rejected, lines };
}

/** Polls an async read until `accept` holds, returning the last value read. */
async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = await read();
  }
  return value;
}

let n = 0;
function call(overrides: Partial<LiveCall> = {}): LiveCall {
  return {
    callSid: `CA${(++n).toString(16).padStart(32, '0')}`,
    instance: 'ignored',
    from: '+15550001111',
    to: '+15550002222',
    startedAt: new Date().toISOString(),
    direction: 'inbound',
    ...overrides,
  };
}

describe('RedisCallDirectory', () => {
  it('refuses to start with another CLUSTER_SECRET than the instances already on Redis use', async () => {
    await instance('A');
    const other = new Secret('some-other-cluster-secret-0123456789');
    await expect(instance('B', { secret: other })).rejects.toThrow(
      /^CLUSTER_SECRET: the instances already on this Redis use another one/,
    );
    await expect(instance('B', { secret: other })).rejects.toBeInstanceOf(
      ClusterSecretMismatchError,
    );
    await expect(instance('B')).resolves.toBeDefined();
  });

  it('says when instances with another CLUSTER_SECRET took the cluster over while its check had lapsed', async () => {
    const a = await instance('A', { heartbeatMs: 50 });
    const admin = new Redis(spec.redis.url);
    await admin.set('bridge:secret-check', 'f'.repeat(64));
    await waitUntil(() => a.lines.some((line) => /different CLUSTER_SECRET/.test(line)), 'warning');
    await admin.del('bridge:secret-check');
    await waitUntil(
      () => a.lines.some((line) => /one CLUSTER_SECRET again/.test(line)),
      'all clear',
    );
    admin.disconnect();
  });

  it('refuses to start under an INSTANCE_ID a live instance already runs as, and takes it once that one left', async () => {
    const a = await instance('A');
    await expect(instance('A')).rejects.toThrow(
      /INSTANCE_ID: another instance on this Redis already runs under this one .*bridge:control:A/,
    );
    await expect(instance('A')).rejects.toBeInstanceOf(InstanceIdTakenError);
    await a.directory.close();
    await expect(instance('A')).resolves.toBeDefined();
  });

  it('lists a call admitted on one instance on every instance, with its owner', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const c = call({ direction: 'outbound', profile: 'sales' });

    expect(await a.directory.admit(c)).toEqual({ ok: true, degraded: false });

    const listed = await b.directory.list();
    expect(listed).toEqual([{ ...c, instance: 'A' }]);
    expect(await b.directory.get(c.callSid)).toEqual({ ...c, instance: 'A' });
    await a.directory.release(c.callSid);
    expect(await b.directory.list()).toEqual([]);
    expect(await b.directory.get(c.callSid)).toBeUndefined();
  });

  it('refuses a call beyond CLUSTER_MAX_CALLS on every instance, and frees the slot on release', async () => {
    const a = await instance('A', { clusterMaxCalls: 2 });
    const b = await instance('B', { clusterMaxCalls: 2 });
    const first = call();
    expect((await a.directory.admit(first)).ok).toBe(true);
    expect((await b.directory.admit(call())).ok).toBe(true);

    expect(await a.directory.hasClusterCapacity()).toBe(false);
    expect(await b.directory.hasClusterCapacity()).toBe(false);
    expect(await a.directory.admit(call())).toEqual({
      ok: false,
      reason: 'CLUSTER_MAX_CALLS (2) calls already live',
      why: 'full',
    });
    expect((await b.directory.admit(call())).ok).toBe(false);
    // The refused calls left nothing behind.
    expect(await a.directory.list()).toHaveLength(2);

    await a.directory.release(first.callSid);
    expect(await b.directory.hasClusterCapacity()).toBe(true);
    expect((await b.directory.admit(call())).ok).toBe(true);
  });

  it('admits concurrent calls atomically: never more than CLUSTER_MAX_CALLS', async () => {
    const instances = await Promise.all(
      ['A', 'B', 'C'].map((id) => instance(id, { clusterMaxCalls: 5 })),
    );
    const verdicts = await Promise.all(
      Array.from({ length: 30 }, (_, i) => instances[i % 3].directory.admit(call())),
    );
    expect(verdicts.filter((v) => v.ok)).toHaveLength(5);
    expect(await instances[0].directory.list()).toHaveLength(5);
  });

  it('refuses a second stream for a CallSid that is live on another instance', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const c = call();
    await a.directory.admit(c);
    expect(await b.directory.admit(c)).toEqual({
      ok: false,
      reason: 'a stream for this call is already live on another instance',
      why: 'live',
    });
  });

  it('keeps leases alive with the heartbeat, and drops a dead instance’s calls and slots', async () => {
    const lease = { leaseTtlMs: 600, heartbeatMs: 150, clusterMaxCalls: 1 };
    const a = await instance('A', lease);
    const b = await instance('B', lease);
    const c = call();
    await a.directory.admit(c);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // 2.5 lease lives
    expect((await b.directory.list()).map((x) => x.callSid)).toEqual([c.callSid]);

    // A stops without releasing (as a killed process): nothing renews its lease any more.
    await a.directory.close();
    const gone = Date.now();
    const listed = await eventually(
      () => b.directory.list(),
      (calls) => calls.length === 0,
    );
    expect(listed).toEqual([]);
    expect(Date.now() - gone).toBeLessThan(2000);
    expect(await b.directory.hasClusterCapacity()).toBe(true);
    expect((await b.directory.admit(call())).ok).toBe(true);
  });

  it('remembers a CallSid cluster-wide: only the first instance to ask is first', async () => {
    const a = await instance('A');
    const b = await instance('B');
    expect(await a.directory.remember('stream-started', 'CA1', 86_400)).toBe(true);
    expect(await b.directory.remember('stream-started', 'CA1', 86_400)).toBe(false);
    expect(await b.directory.recalls('stream-started', 'CA1')).toBe(true);
    expect(await b.directory.recalls('webhook-id', 'CA1')).toBe(false);
    const admin = new Redis(spec.redis.url);
    const ttl = await admin.ttl('bridge:mem:stream-started:CA1');
    admin.disconnect();
    expect(ttl).toBeGreaterThan(86_000);

    // Forgotten on one instance (the bridge moves the call to a new stream): on all of them.
    await b.directory.forget('stream-started', 'CA1');
    expect(await a.directory.recalls('stream-started', 'CA1')).toBe(false);
    expect(await a.directory.remember('stream-started', 'CA1', 86_400)).toBe(true);
  });

  it('hands an outbound plan stored on one instance to the stream on another, once', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const plan = { instructions: 'Sell', greeting: 'Hi', parameters: { crm: '42' } };
    await a.directory.setPlan('CA9', plan, 600);
    expect(await b.directory.getPlan('CA9')).toEqual(plan);
    expect(await b.directory.takePlan('CA9')).toEqual(plan);
    expect(await a.directory.takePlan('CA9')).toBeUndefined();
  });

  it('keeps the records of finished calls, newest first, from every instance', async () => {
    const a = await instance('A');
    const b = await instance('B');
    a.events.emit('call.ended', { event: 'call.ended', callSid: 'CA1', outcome: 'completed' });
    // Two instances' writes on two connections race; the second call ends once the first is kept.
    await eventually(
      () => b.directory.recentRecords(),
      (list) => list.length === 1,
    );
    b.events.emit('call.ended', { event: 'call.ended', callSid: 'CA2', outcome: 'failed' });
    const records = await eventually(
      () => a.directory.recentRecords(),
      (list) => list.length === 2,
    );
    expect(records).toEqual([
      { event: 'call.ended', callSid: 'CA2', outcome: 'failed', instance: 'B' },
      { event: 'call.ended', callSid: 'CA1', outcome: 'completed', instance: 'A' },
    ]);
    expect(await a.directory.recentRecords(1)).toHaveLength(1);
  });

  it("erases a call's record from the list, and tells every instance to forget it", async () => {
    const a = await instance('A');
    const b = await instance('B');
    const sid = (n: number) => `CA${String(n).padStart(32, '0')}`;
    const told: string[] = [];
    const where = (elsewhere: boolean) => (elsewhere ? 'elsewhere' : 'here');
    a.directory.onCallErased((callSid, elsewhere) => told.push(`A ${callSid} ${where(elsewhere)}`));
    b.directory.onCallErased((callSid, elsewhere) => told.push(`B ${callSid} ${where(elsewhere)}`));
    a.events.emit('call.ended', { event: 'call.ended', callSid: sid(1), outcome: 'completed' });
    await eventually(
      () => b.directory.recentRecords(),
      (list) => list.length === 1,
    );
    b.events.emit('call.ended', { event: 'call.ended', callSid: sid(2), outcome: 'completed' });
    await eventually(
      () => a.directory.recentRecords(),
      (list) => list.length === 2,
    );
    // Both subscribed by now (a subscription is confirmed within a round trip).
    await new Promise((resolve) => setTimeout(resolve, 100));

    await b.directory.eraseCall(sid(1));
    expect((await a.directory.recentRecords()).map((r) => r.callSid)).toEqual([sid(2)]);
    await eventually(
      () => Promise.resolve(told),
      (list) => list.length === 2,
    );
    // B, which served it, is told once (its own bus message is not taken for another's).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(told).toEqual([`B ${sid(1)} here`, `A ${sid(1)} elsewhere`]);
  });

  it('routes control to the owner, which acts once and answers', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const c = call();
    await b.directory.admit(c);
    const seen: [string, string, ControlCommand][] = [];
    a.directory.onControl((sid, command) => {
      seen.push(['A', sid, command]);
      return Promise.resolve({ ok: true, status: 'completed' });
    });
    b.directory.onControl((sid, command) => {
      seen.push(['B', sid, command]);
      return Promise.resolve({ ok: true, status: 'transferred', to: 'tel:+15550003333' });
    });

    const result = await a.directory.control(c.callSid, { action: 'hangup' });

    expect(result).toEqual({ ok: true, status: 'transferred', to: 'tel:+15550003333' });
    expect(seen).toEqual([['B', c.callSid, { action: 'hangup' }]]);
    expect(await a.directory.control('CA404', { action: 'hangup' })).toMatchObject({
      ok: false,
      error: 'unknown_call',
    });
  });

  it('answers timeout when the owner does not answer in time, unavailable when it is gone', async () => {
    const a = await instance('A', { controlTimeoutMs: 300 });
    const b = await instance('B');
    const c = call();
    await b.directory.admit(c);
    b.directory.onControl(() => new Promise(() => undefined)); // never answers
    expect(await a.directory.control(c.callSid, { action: 'hangup' })).toMatchObject({
      error: 'timeout',
    });

    await b.directory.close(); // its lease is still there, nobody listens any more
    expect(await a.directory.control(c.callSid, { action: 'hangup' })).toMatchObject({
      error: 'unavailable',
    });
  });

  it('waits for a SIP call’s hang-up as long as the owner retries it, and no longer for the rest', async () => {
    const a = await instance('A', { controlTimeoutMs: 300 });
    const b = await instance('B');
    const sip = call({ callSid: 'rtc_slowhangup1', transport: 'sip' });
    const media = call({ transport: 'media' });
    await b.directory.admit(sip);
    await b.directory.admit(media);
    // OpenAI answers the first attempts late; the owner's retries take a while.
    b.directory.onControl(
      () =>
        new Promise((resolve) =>
          setTimeout(() => resolve({ ok: true, status: 'completed' }), 1000),
        ),
    );
    expect(await a.directory.control(sip.callSid, { action: 'hangup' })).toEqual({
      ok: true,
      status: 'completed',
    });
    expect(await a.directory.control(media.callSid, { action: 'hangup' })).toMatchObject({
      error: 'timeout',
    });
    expect(await a.directory.control(sip.callSid, { action: 'say', text: 'hi' })).toMatchObject({
      error: 'timeout',
    });
  });

  it('answers unavailable, not unknown call, while a hung Redis does not answer', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const c = call();
    await b.directory.admit(c);
    spec.redis.pause();
    try {
      expect(await a.directory.control(c.callSid, { action: 'hangup' })).toMatchObject({
        error: 'unavailable',
      });
    } finally {
      spec.redis.resume();
    }
  });

  it('closes within REDIS_CLOSE_MS when Redis does not answer, dropping the connections', async () => {
    const a = await instance('A');
    await a.directory.admit(call());
    spec.redis.pause();
    const started = Date.now();
    try {
      await a.directory.close();
    } finally {
      spec.redis.resume();
    }
    expect(Date.now() - started).toBeLessThan(REDIS_CLOSE_MS + 1000);
    expect(a.lines).toContainEqual(
      `Redis did not answer the close within ${REDIS_CLOSE_MS} ms: connections dropped`,
    );
  });

  it('counts a Redis that stops answering as down, even when idle, and comes back when it answers', async () => {
    const a = await instance('A', { heartbeatMs: 100 });
    spec.redis.pause();
    let degraded: LiveCall;
    try {
      // No call to renew: the heartbeat's beat on the bus is what times out.
      await waitUntil(() => a.directory.health().store === 'down', 'A to see Redis hung', 10_000);
      expect(a.states).toEqual([true, false]);
      // Beats sent before the verdict may still be timing out: every failure is a beat, or the
      // heartbeat's secret check (the only other command an idle instance sends).
      expect(a.errors.length).toBeGreaterThanOrEqual(2);
      expect(a.errors).toContain('beat');
      expect(a.errors.filter((op) => op !== 'beat' && op !== 'secret-check')).toEqual([]);
      expect(a.lines).toContainEqual(
        expect.stringMatching(
          /^Redis stopped answering \(redis:\/\/127\.0\.0\.1:\d+\/0: 2 commands in a row got no answer within 2000 ms\): live calls go on/,
        ),
      );
      // Down, not waiting on each command: admission falls back to the local limit.
      degraded = call();
      expect(await a.directory.admit(degraded)).toEqual({ ok: true, degraded: true });
    } finally {
      spec.redis.resume();
    }
    await waitUntil(() => a.directory.health().store === 'up', 'A to see Redis again', 10_000);
    expect(a.states).toEqual([true, false, true]);
    expect(a.lines).toContainEqual(
      expect.stringMatching(/^Redis is back after \d+ s: re-registering 1 live calls/),
    );
    const b = await instance('B');
    const seenByB = await eventually(
      async () => (await b.directory.list()).map((x) => x.callSid),
      (sids) => sids.length === 1,
    );
    expect(seenByB).toEqual([degraded.callSid]);
  }, 30_000);

  it('reconnects a subscriber that hears nothing, not even its own beat, so control reaches it again', async () => {
    const proxy = await TcpProxy.start(spec.redis.port);
    try {
      const a = await instance('A', {
        url: `redis://127.0.0.1:${proxy.port}/0`,
        heartbeatMs: 100,
        subscriberSilentMs: 500,
      });
      const b = await instance('B', { controlTimeoutMs: 300 });
      const c = call();
      await a.directory.admit(c);
      a.directory.onControl(() => Promise.resolve({ ok: true, status: 'completed' }));

      // The network forgets the subscriber's flow: nothing closes, A's commands still work.
      expect(proxy.blackhole(/SUBSCRIBE/i)).toBe(1);
      expect(await b.directory.control(c.callSid, { action: 'hangup' })).toMatchObject({
        error: 'timeout',
      });
      await waitUntil(
        () => a.lines.some((line) => line.startsWith('Redis subscriber heard nothing')),
        'A to notice that its subscriber is deaf',
        10_000,
      );
      expect(a.directory.health().store).toBe('up');
      const answer = await eventually(
        () => b.directory.control(c.callSid, { action: 'hangup' }),
        (result) => result.ok,
      );
      expect(answer).toEqual({ ok: true, status: 'completed' });
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('carries the owner’s events to followers on another instance, once each', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const c = call();
    await b.directory.admit(c);
    const onA: SharedCallEvent[] = [];
    const onB: SharedCallEvent[] = [];
    const stopA = a.directory.follow(c.callSid, (event) => onA.push(event));
    b.directory.follow(c.callSid, (event) => onB.push(event));
    // The subscription is asynchronous: wait until Redis has it.
    const admin = new Redis(spec.redis.url);
    await eventually(
      async () => (await admin.pubsub('NUMSUB', `bridge:events:${c.callSid}`)) as [string, number],
      ([, count]) => count >= 2,
    );
    admin.disconnect();

    const transcript = { event: 'call.transcript', callSid: c.callSid, role: 'caller', text: 'hi' };
    b.events.emit('call.transcript', transcript);
    b.events.emit('call.transcript', { ...transcript, callSid: 'CAother' });
    await waitUntil(() => onA.length === 1, 'the event on A', 3000);
    expect(onA).toEqual([transcript]);
    expect(onB).toEqual([transcript]); // the owner's follower: from its own process, not twice
    stopA();
    b.events.emit('call.ended', { event: 'call.ended', callSid: c.callSid });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(onA).toHaveLength(1);
  });

  describe('trusts nothing it did not sign', () => {
    it('never lists a call written into Redis by someone else, and counts it', async () => {
      const a = await instance('A');
      const real = call();
      await a.directory.admit(real);
      const fake = call();
      const admin = new Redis(spec.redis.url);
      const expiry = Date.now() + 60_000;
      // What the directory wrote before the bus was signed, and a signed entry moved to another key.
      await admin.zadd('bridge:leases', expiry, fake.callSid);
      await admin.hset(`bridge:call:${fake.callSid}`, { ...fake, instance: 'X' });
      const moved = call();
      const signed = await admin.hget(`bridge:call:${real.callSid}`, 'record');
      await admin.zadd('bridge:leases', expiry, moved.callSid);
      await admin.hset(`bridge:call:${moved.callSid}`, 'record', signed!);
      admin.disconnect();

      expect((await a.directory.list()).map((c) => c.callSid)).toEqual([real.callSid]);
      expect(await a.directory.get(fake.callSid)).toBeUndefined();
      expect(a.rejected).toEqual(expect.arrayContaining(['malformed', 'bad_signature']));
      expect(
        a.lines.some((line) => line.includes('cluster bus: dropped a message on bridge:call:')),
      ).toBe(true);
    });

    it('runs no control request that is unsigned or signed with another secret', async () => {
      const a = await instance('A');
      const c = call();
      await a.directory.admit(c);
      const seen: ControlCommand[] = [];
      a.directory.onControl((_sid, command) => {
        seen.push(command);
        return Promise.resolve({ ok: true, status: 'completed' });
      });
      const request = {
        type: 'control',
        id: '6f1c2a52-8c1e-4c55-9a3e-0f6c1f1d2b3a',
        replyTo: 'B',
        callSid: c.callSid,
        command: { action: 'transfer', number: '+19005550123' },
      };
      const admin = new Redis(spec.redis.url);
      try {
        // Today's plain JSON, then the right envelope signed under another CLUSTER_SECRET.
        await admin.publish('bridge:control:A', JSON.stringify(request));
        const other = new BusEnvelope(new Secret('some-other-cluster-secret-0123456789'));
        await admin.publish('bridge:control:A', other.seal('bridge:control:A', request));
        await waitUntil(() => a.rejected.length >= 2, 'both messages dropped', 3000);
      } finally {
        admin.disconnect();
      }
      expect(a.rejected).toEqual(['malformed', 'bad_signature']);
      expect(seen).toEqual([]);
    });

    it('acts once on a signed request replayed within the window', async () => {
      const a = await instance('A');
      const b = await instance('B');
      const c = call();
      await a.directory.admit(c);
      let runs = 0;
      a.directory.onControl(() => {
        runs++;
        return Promise.resolve({ ok: true, status: 'completed' });
      });
      const admin = new Redis(spec.redis.url);
      const sub = new Redis(spec.redis.url);
      const captured: string[] = [];
      sub.on('message', (_channel: string, message: string) => captured.push(message));
      await sub.subscribe('bridge:control:A');
      expect(await b.directory.control(c.callSid, { action: 'hangup' })).toEqual({
        ok: true,
        status: 'completed',
      });
      await waitUntil(() => captured.length === 1, 'the request captured', 3000);
      await admin.publish('bridge:control:A', captured[0]);
      await waitUntil(() => a.rejected.length === 1, 'the replay dropped', 3000);
      sub.disconnect();
      admin.disconnect();
      expect(a.rejected).toEqual(['replayed']);
      expect(runs).toBe(1);
    });

    it('runs no request older than CONTROL_ACCEPT_WINDOW_MS: its action could end after its asker gave up', async () => {
      const a = await instance('A');
      const c = call();
      await a.directory.admit(c);
      let runs = 0;
      a.directory.onControl(() => {
        runs++;
        return Promise.resolve({ ok: true, status: 'completed' });
      });
      const request = (id: string) => ({
        type: 'control',
        id,
        replyTo: 'B',
        callSid: c.callSid,
        command: { action: 'hangup' },
      });
      const sealedAt = (ageMs: number) => new BusEnvelope(SECRET, () => Date.now() - ageMs);
      const admin = new Redis(spec.redis.url);
      try {
        await admin.publish(
          'bridge:control:A',
          sealedAt(CONTROL_ACCEPT_WINDOW_MS + 500).seal(
            'bridge:control:A',
            request('11111111-1111-4111-8111-111111111111'),
          ),
        );
        await waitUntil(() => a.rejected.length === 1, 'the late request dropped', 3000);
        await admin.publish(
          'bridge:control:A',
          sealedAt(500).seal('bridge:control:A', request('22222222-2222-4222-8222-222222222222')),
        );
        await waitUntil(() => runs === 1, 'the timely request run', 3000);
        // A beat held up by a Redis stall acts on nothing: it is read, not counted as refused (a
        // late request after it is, and the channel keeps its order).
        const late = sealedAt(12_000);
        await admin.publish('bridge:control:A', late.seal('bridge:control:A', { type: 'beat' }));
        await admin.publish(
          'bridge:control:A',
          late.seal('bridge:control:A', request('33333333-3333-4333-8333-333333333333')),
        );
        await waitUntil(() => a.rejected.length === 2, 'the second late request dropped', 3000);
      } finally {
        admin.disconnect();
      }
      expect(a.rejected).toEqual(['expired', 'expired']);
      expect(runs).toBe(1);
    });

    it('relays no event that is unsigned, or signed for another call', async () => {
      const a = await instance('A');
      const b = await instance('B');
      const c = call();
      await b.directory.admit(c);
      const onA: SharedCallEvent[] = [];
      a.directory.follow(c.callSid, (event) => onA.push(event));
      const admin = new Redis(spec.redis.url);
      await eventually(
        async () =>
          (await admin.pubsub('NUMSUB', `bridge:events:${c.callSid}`)) as [string, number],
        ([, count]) => count >= 1,
      );
      const forged = { event: 'call.dtmf', callSid: c.callSid, digit: '9' };
      await admin.publish(
        `bridge:events:${c.callSid}`,
        JSON.stringify({ type: 'event', origin: 'B', event: forged }),
      );
      // A signed event of another call, captured and replayed on this call's channel.
      const sub = new Redis(spec.redis.url);
      const captured: string[] = [];
      sub.on('message', (_channel: string, message: string) => captured.push(message));
      await sub.subscribe('bridge:events:CAother');
      b.events.emit('call.dtmf', { event: 'call.dtmf', callSid: 'CAother', digit: '8' });
      await waitUntil(() => captured.length === 1, 'the other event captured', 3000);
      await admin.publish(`bridge:events:${c.callSid}`, captured[0]);
      const real = { event: 'call.dtmf', callSid: c.callSid, digit: '7' };
      b.events.emit('call.dtmf', real);
      await waitUntil(() => onA.length === 1, 'the real event on A', 3000);
      sub.disconnect();
      admin.disconnect();
      expect(onA).toEqual([real]);
      expect(a.rejected).toEqual(['malformed', 'bad_signature']);
    });

    it('ignores plans and records that are not signed', async () => {
      const a = await instance('A');
      const admin = new Redis(spec.redis.url);
      await admin.set('bridge:plan:CA9', JSON.stringify({ instructions: 'Wire money' }), 'EX', 60);
      await admin.lpush('bridge:recent', JSON.stringify({ callSid: 'CA1', instance: 'X' }));
      admin.disconnect();
      expect(await a.directory.getPlan('CA9')).toBeUndefined();
      expect(await a.directory.takePlan('CA9')).toBeUndefined();
      expect(await a.directory.recentRecords()).toEqual([]);
      expect(a.rejected).toEqual(['malformed', 'malformed', 'malformed']);
    });
  });

  it('goes on through a Redis outage and re-registers its live calls when Redis is back', async () => {
    const a = await instance('A', { clusterMaxCalls: 1, heartbeatMs: 100 });
    const b = await instance('B', { clusterMaxCalls: 1, heartbeatMs: 100 });
    const live = call();
    await a.directory.admit(live);

    await spec.redis.stop();
    await waitUntil(() => a.directory.health().store === 'down', 'A to see Redis down', 5000);
    expect(a.states).toEqual([true, false]);
    expect(a.directory.health()).toMatchObject({ mode: 'redis', instance: 'A', store: 'down' });
    // Admission falls back to the local limit (the caller's); the cluster cap cannot be checked.
    const degraded = call();
    expect(await a.directory.admit(degraded)).toEqual({ ok: true, degraded: true });
    const outage = await a.directory.listing();
    expect(outage.partial).toBe(true);
    expect(outage.calls.map((x) => x.callSid).sort()).toEqual(
      [live.callSid, degraded.callSid].sort(),
    );
    expect(await a.directory.remember('stream-started', degraded.callSid, 86_400)).toBe(true);
    expect(await a.directory.remember('stream-started', degraded.callSid, 86_400)).toBe(false);
    expect(a.lines.some((line) => line.includes('Redis connection lost'))).toBe(true);

    // Redis comes back empty (no persistence): A writes its live calls and memory again.
    await spec.redis.start();
    await waitUntil(() => a.directory.health().store === 'up', 'A to reconnect', 10_000);
    await waitUntil(() => b.directory.health().store === 'up', 'B to reconnect', 10_000);
    const seenByB = await eventually(
      async () => (await b.directory.list()).map((x) => x.callSid),
      (sids) => sids.length === 2,
    );
    expect(seenByB.sort()).toEqual([live.callSid, degraded.callSid].sort());
    expect((await b.directory.listing()).partial).toBe(false);
    expect(await b.directory.recalls('stream-started', degraded.callSid)).toBe(true);
    expect(
      a.lines.some((line) => /Redis is back after \d+ s: re-registering 2 live calls/.test(line)),
    ).toBe(true);
    // Two calls live against a cap of one: the cluster is full until one ends.
    expect(await b.directory.hasClusterCapacity()).toBe(false);
  }, 30_000);

  it('never prints the password of REDIS_URL, connected or lost', async () => {
    const secured = await TestRedis.start({ password: 'hunter2-secret' });
    try {
      const events = new EventEmitter2({ wildcard: true, delimiter: '.' });
      const lines: string[] = [];
      const directory = await RedisCallDirectory.connect({
        url: secured.url,
        secret: SECRET,
        instanceId: 'P',
        events,
        observer: quiet,
        log: { log: (line) => lines.push(line), warn: (line) => lines.push(line) },
      });
      expect((await directory.admit(call())).ok).toBe(true);
      await secured.stop();
      await waitUntil(() => directory.health().store === 'down', 'Redis down', 5000);
      await directory.close();
      expect(lines.join('\n')).toContain('redis://:***@127.0.0.1');
      expect(lines.join('\n')).not.toContain('hunter2');
      expect(lines.some((line) => line.startsWith('Redis connection lost'))).toBe(true);
    } finally {
      await secured.destroy();
    }
  });

  it('fails to start with one clear line when Redis cannot be reached, without the password', async () => {
    const port = await freePort();
    const url = `redis://:hunter2-secret@127.0.0.1:${port}/0`;
    const started = Date.now();
    const error = await RedisCallDirectory.connect({
      url,
      secret: SECRET,
      instanceId: 'A',
      events: new EventEmitter2(),
      observer: quiet,
      log: { log: () => undefined, warn: () => undefined },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(
      new RegExp(
        `^REDIS_URL: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/0 \\(`,
      ),
    );
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('\n');
    expect(Date.now() - started).toBeLessThan(7000);
  });
});
