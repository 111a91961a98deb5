import { EventEmitter2 } from '@nestjs/event-emitter';
import { Redis } from 'ioredis';
import { redisPerSpec } from '../../test/support/redis-per-spec.js';
import { Secret } from '../config/secret.js';
import type { BusRejection } from './bus-envelope.js';
import type { LiveCall } from './call-directory.js';
import { RedisCallDirectory, type RedisDirectoryOptions } from './redis-call-directory.js';

// Instances of one cluster on a real redis-server; a SIP call's owner "dies" by closing its
// directory without releasing anything, as a SIGKILLed process leaves Redis.

const SECRET = new Secret('spec-cluster-secret-0123456789abcdef');
const FAST = { leaseTtlMs: 300, heartbeatMs: 100, sipLineGraceMs: 600 };

const spec = redisPerSpec();
const { open } = spec;

interface Instance {
  directory: RedisCallDirectory;
  /** Calls this instance was given to hang up. */
  orphans: LiveCall[];
  rejected: BusRejection[];
}

async function instance(
  instanceId: string,
  options: Partial<RedisDirectoryOptions> = {},
): Promise<Instance> {
  const orphans: LiveCall[] = [];
  const rejected: BusRejection[] = [];
  const directory = await RedisCallDirectory.connect({
    url: spec.redis.url,
    secret: SECRET,
    instanceId,
    events: new EventEmitter2({ wildcard: true, delimiter: '.' }),
    observer: {
      storeState: () => undefined,
      storeError: () => undefined,
      busRejected: (reason) => rejected.push(reason),
    },
    log: { log: () => undefined, warn: () => undefined },
    ...FAST,
    ...options,
  });
  directory.onOrphanedLine((orphan) => {
    orphans.push(orphan);
    return Promise.resolve();
  });
  open.push(directory);
  return { directory, orphans, rejected };
}

let n = 0;
function call(transport: 'sip' | 'media'): LiveCall {
  const id = (++n).toString(16).padStart(32, '0');
  return {
    callSid: transport === 'sip' ? `rtc_${id}` : `CA${id}`,
    instance: 'ignored',
    startedAt: new Date().toISOString(),
    direction: 'inbound',
    transport,
  };
}

/** Admitted, then accepted by OpenAI: what SipCallLine does, the line held from the accept. */
async function accepted(owner: Instance, sip: LiveCall): Promise<void> {
  await owner.directory.admit(sip);
  await owner.directory.holdLine(sip.callSid);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await sleep(20);
}

describe('SIP lines (RedisSipLines through RedisCallDirectory)', () => {
  it('hands the SIP calls of an instance that is gone to one survivor, after the grace', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const c = await instance('C');
    const sip = call('sip');
    const media = call('media');
    await accepted(a, sip);
    await a.directory.admit(media);
    // Held by its live owner for several lease lives and graces: nobody touches it.
    await sleep(1500);
    expect([...b.orphans, ...c.orphans]).toEqual([]);

    await a.directory.close(); // killed: no release, no more heartbeats
    const gone = Date.now();
    await until(() => b.orphans.length + c.orphans.length > 0);
    const took = Date.now() - gone;
    await sleep(1000); // time for a second claim, if one could happen

    const orphans = [...b.orphans, ...c.orphans];
    expect(orphans).toEqual([{ ...sip, instance: 'A' }]); // once, and never the media call
    expect(took).toBeGreaterThanOrEqual(FAST.leaseTtlMs + FAST.sipLineGraceMs - 150);
    expect(took).toBeLessThan(3000);
  });

  it('hangs up the SIP calls of an earlier process of the same name (restarted in place)', async () => {
    const first = await instance('A');
    const sip = call('sip');
    await accepted(first, sip);
    await first.directory.close(); // killed; its container restarts with the same hostname and pid
    const again = await instance('A');

    await until(() => again.orphans.length > 0);
    expect(again.orphans).toEqual([{ ...sip, instance: 'A' }]);
  });

  it('leaves alone an owner that holds its line late, within the grace', async () => {
    // A renews every second a lease of 300 ms: its lease and line lapse for ~700 ms each time.
    const a = await instance('A', { heartbeatMs: 1000 });
    const b = await instance('B', { sipLineGraceMs: 1500 });
    const sip = call('sip');
    await accepted(a, sip);
    await sleep(4000);
    expect(b.orphans).toEqual([]);
  });

  it('forgets the line of a SIP call once OpenAI confirmed it down', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const sip = call('sip');
    await accepted(a, sip);
    await a.directory.release(sip.callSid);
    await a.directory.releaseLine(sip.callSid);
    await a.directory.close();
    await sleep(1500);
    expect(b.orphans).toEqual([]);
  });

  it('hangs up again, itself, a call that ended here without its line confirmed down', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const sip = call('sip');
    await accepted(a, sip);
    await a.directory.release(sip.callSid); // closed, but its hang-up failed
    await until(() => a.orphans.length > 0);
    await sleep(500);
    expect(a.orphans).toEqual([{ ...sip, instance: 'A' }]);
    expect(b.orphans).toEqual([]);
  });

  it('holds no line for a call OpenAI never accepted', async () => {
    const a = await instance('A');
    const b = await instance('B');
    const sip = call('sip');
    await a.directory.admit(sip);
    await a.directory.close();
    await sleep(1500);
    expect(b.orphans).toEqual([]);
  });

  it('hangs up no live call after Redis stopped answering for longer than a lease', async () => {
    // The grace must outlast an instance's return after an outage (a PING every 2 s).
    const options = { sipLineGraceMs: 3000 };
    const a = await instance('A', options);
    const b = await instance('B', options);
    const sip = call('sip');
    await accepted(a, sip);
    spec.redis.pause(); // every lease and line is past its expiry when Redis answers again
    await sleep(5000);
    spec.redis.resume();
    await until(() => a.directory.health().store === 'up' && b.directory.health().store === 'up');
    await sleep(4000);
    expect(b.orphans).toEqual([]);
    expect((await b.directory.get(sip.callSid))?.instance).toBe('A');
  }, 20_000);

  it('never hangs up a line it did not sign, nor one whose call holds a live lease', async () => {
    // Long heartbeats: A's lease stays live, but nothing holds its line again meanwhile.
    const a = await instance('A', { leaseTtlMs: 20_000, heartbeatMs: 10_000 });
    const b = await instance('B');
    const live = call('sip');
    await accepted(a, live);
    const forged = call('sip');
    const admin = new Redis(spec.redis.url);
    const past = Date.now() - 60_000;
    await admin.zadd('bridge:sip-lines', past, forged.callSid, past, live.callSid);
    await admin.hset('bridge:sip-line-records', forged.callSid, JSON.stringify(forged));

    await until(() => b.rejected.length > 0);
    await sleep(1000);
    expect(b.orphans).toEqual([]);
    expect(b.rejected).toContain('malformed');
    // The forged line was taken away; the live call's line is still there for its owner.
    expect(await admin.zscore('bridge:sip-lines', forged.callSid)).toBeNull();
    expect(await admin.zscore('bridge:sip-lines', live.callSid)).not.toBeNull();
    admin.disconnect();
  });

  it('leaves the line of an owner that still listens, even with its lease and line gone stale', async () => {
    // As someone who can write to Redis would stage it, racing A's heartbeat: A is alive.
    const a = await instance('A', { leaseTtlMs: 20_000, heartbeatMs: 10_000 });
    const b = await instance('B');
    const live = call('sip');
    await accepted(a, live);
    const admin = new Redis(spec.redis.url);
    await admin.zrem('bridge:leases', live.callSid);
    await admin.zadd('bridge:sip-lines', Date.now() - 60_000, live.callSid);

    await sleep(2000); // over three graces
    expect(b.orphans).toEqual([]);
    expect(await admin.zscore('bridge:sip-lines', live.callSid)).not.toBeNull();
    admin.disconnect();
  });

  it('waits out the grace for an owner whose connections Redis dropped, as in a Redis restart', async () => {
    const a = await instance('A', { leaseTtlMs: 20_000, heartbeatMs: 10_000 });
    const b = await instance('B', { sipLineGraceMs: 1500 });
    const live = call('sip');
    await accepted(a, live);
    const admin = new Redis(spec.redis.url);
    // What a restarted Redis holds: the lease and line expired, the owner not subscribed yet.
    await admin.zrem('bridge:leases', live.callSid);
    await admin.zadd('bridge:sip-lines', Date.now() - 60_000, live.callSid);
    await admin.client('KILL', 'TYPE', 'pubsub'); // subscribers reconnect within ~200 ms

    await sleep(2500);
    expect(b.orphans).toEqual([]);
    admin.disconnect();
  });
});
