import { EventEmitter2 } from '@nestjs/event-emitter';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { LiveCall, SharedCallEvent } from './call-directory.js';
import {
  MAX_PLANS_IN_MEMORY,
  MAX_REMEMBERED_STREAMS,
  RECENT_CALLS_MAX,
} from './cluster.constants.js';
import { MemoryCallDirectory } from './memory-call-directory.js';

const events = () => new EventEmitter2({ wildcard: true, delimiter: '.' });

function call(callSid: string): LiveCall {
  return {
    callSid,
    instance: 'ignored',
    startedAt: new Date().toISOString(),
    direction: 'inbound',
  };
}

describe('MemoryCallDirectory', () => {
  it('admits up to CLUSTER_MAX_CALLS, once per CallSid, as the owner', async () => {
    const directory = new MemoryCallDirectory({
      instanceId: 'A',
      clusterMaxCalls: 2,
      events: events(),
    });
    expect(await directory.admit(call('CA1'))).toEqual({ ok: true, degraded: false });
    expect(await directory.admit(call('CA1'))).toMatchObject({ ok: false, why: 'live' });
    expect((await directory.admit(call('CA2'))).ok).toBe(true);
    expect(await directory.hasClusterCapacity()).toBe(false);
    expect(await directory.admit(call('CA3'))).toEqual({
      ok: false,
      reason: 'CLUSTER_MAX_CALLS (2) calls already live',
      why: 'full',
    });
    expect((await directory.list()).map((c) => c.instance)).toEqual(['A', 'A']);
    await directory.release('CA1');
    expect(await directory.get('CA1')).toBeUndefined();
    expect(await directory.hasClusterCapacity()).toBe(true);
  });

  it('has no cluster cap without CLUSTER_MAX_CALLS (the per-instance limit is the caller’s)', async () => {
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: events() });
    for (let i = 0; i < 1000; i++) expect((await directory.admit(call(`CA${i}`))).ok).toBe(true);
    expect(await directory.hasClusterCapacity()).toBe(true);
  });

  it('keeps the replay memory of a full day of calls within ~30 MB of heap', async () => {
    // Every started call is remembered for STREAM_REPLAY_MEMORY_S (a day, up to 30): the bound
    // must fit beside the rest of a 512 MiB pod (deploy/k8s) at any call rate.
    const gc = () => {
      v8.setFlagsFromString('--expose-gc');
      (vm.runInNewContext('gc') as () => void)();
      return process.memoryUsage().heapUsed;
    };
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: events() });
    const before = gc();
    for (let i = 0; i < MAX_REMEMBERED_STREAMS + 1000; i++) {
      // Flat strings, as JSON.parse makes the CallSids of `start` messages.
      const callSid = JSON.parse(`"CA${i.toString(16).padStart(32, '0')}"`) as string;
      await directory.remember('stream-started', callSid, 86_400);
    }
    const grown = gc() - before;
    expect(directory.memory.size('stream-started')).toBe(MAX_REMEMBERED_STREAMS);
    expect(await directory.recalls('stream-started', `CA${'0'.repeat(32)}`)).toBe(false);
    expect(grown).toBeLessThan(30 * 1024 * 1024);
  }, 60_000);

  it('remembers keys per scope until their TTL, and forgets on request', async () => {
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: events() });
    expect(await directory.remember('webhook-id', 'evt_1', 60)).toBe(true);
    expect(await directory.remember('webhook-id', 'evt_1', 60)).toBe(false);
    expect(await directory.recalls('stream-started', 'evt_1')).toBe(false);
    expect(await directory.remember('stream-started', 'CA1', 0)).toBe(true);
    expect(await directory.recalls('stream-started', 'CA1')).toBe(false); // expired at once
    await directory.forget('webhook-id', 'evt_1');
    expect(await directory.remember('webhook-id', 'evt_1', 60)).toBe(true);
  });

  it('keeps a plan until it is taken', async () => {
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: events() });
    await directory.setPlan('CA1', { greeting: 'Hi' }, 600);
    expect(await directory.getPlan('CA1')).toEqual({ greeting: 'Hi' });
    expect(await directory.takePlan('CA1')).toEqual({ greeting: 'Hi' });
    expect(await directory.takePlan('CA1')).toBeUndefined();
  });

  it('holds at most MAX_PLANS_IN_MEMORY plans, the oldest going first, and drops expired ones', async () => {
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: events() });
    await directory.setPlan('CAold', { greeting: 'expired' }, 0);
    for (let i = 0; i <= MAX_PLANS_IN_MEMORY; i++) {
      await directory.setPlan(`CA${i}`, { greeting: `${i}` }, 600);
    }
    expect(await directory.getPlan('CAold')).toBeUndefined();
    expect(await directory.getPlan('CA0')).toBeUndefined();
    expect(await directory.getPlan('CA1')).toEqual({ greeting: '1' });
    expect(await directory.getPlan(`CA${MAX_PLANS_IN_MEMORY}`)).toEqual({
      greeting: `${MAX_PLANS_IN_MEMORY}`,
    });
  });

  it('records ended calls, newest first, at most RECENT_CALLS_MAX', async () => {
    const emitter = events();
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: emitter });
    for (let i = 0; i < RECENT_CALLS_MAX + 5; i++) {
      emitter.emit('call.ended', { event: 'call.ended', callSid: `CA${i}` });
    }
    const records = await directory.recentRecords();
    expect(records).toHaveLength(RECENT_CALLS_MAX);
    expect(records[0]).toEqual({
      event: 'call.ended',
      callSid: `CA${RECENT_CALLS_MAX + 4}`,
      instance: 'A',
    });
    directory.dispose();
    emitter.emit('call.ended', { event: 'call.ended', callSid: 'late' });
    expect((await directory.recentRecords(1))[0].callSid).not.toBe('late');
  });

  it("erases a call's record and tells its listeners, at once", async () => {
    const emitter = events();
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: emitter });
    const told: string[] = [];
    directory.onCallErased((callSid) => told.push(callSid));
    for (const callSid of ['CA1', 'CA2', 'CA1']) {
      emitter.emit('call.ended', { event: 'call.ended', callSid });
    }
    await directory.eraseCall('CA1');
    expect((await directory.recentRecords()).map((r) => r.callSid)).toEqual(['CA2']);
    expect(told).toEqual(['CA1']);
    directory.dispose();
  });

  it('runs control on its own calls only', async () => {
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: events() });
    await directory.admit(call('CA1'));
    expect(await directory.control('CA1', { action: 'hangup' })).toMatchObject({
      ok: false,
      error: 'unavailable', // no handler
    });
    directory.onControl(() => Promise.resolve({ ok: true, status: 'completed' }));
    expect(await directory.control('CA1', { action: 'hangup' })).toEqual({
      ok: true,
      status: 'completed',
    });
    expect(await directory.control('CA2', { action: 'hangup' })).toMatchObject({
      error: 'unknown_call',
    });
    directory.onControl(() => Promise.reject(new Error('Twilio said no')));
    expect(await directory.control('CA1', { action: 'hangup' })).toEqual({
      ok: false,
      error: 'failed',
      reason: 'Twilio said no',
    });
  });

  it('follows one call’s events until unsubscribed', () => {
    const emitter = events();
    const directory = new MemoryCallDirectory({ instanceId: 'A', events: emitter });
    const seen: SharedCallEvent[] = [];
    const stop = directory.follow('CA1', (event) => seen.push(event));
    emitter.emit('call.dtmf', { event: 'call.dtmf', callSid: 'CA1', digit: '1' });
    emitter.emit('call.dtmf', { event: 'call.dtmf', callSid: 'CA2', digit: '2' });
    stop();
    emitter.emit('call.dtmf', { event: 'call.dtmf', callSid: 'CA1', digit: '3' });
    expect(seen.map((e) => e.digit)).toEqual(['1']);
    expect(directory.health()).toEqual({ mode: 'memory', instance: 'A', store: 'up' });
  });
});
