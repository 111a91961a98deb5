import type { CallDirectory } from '../directory/call-directory.js';
import type { LimitsConfig } from '../config/config.namespaces.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { CallRegistry, type PendingStream } from './call-registry.service.js';

function registry(maxPendingStreams: number): CallRegistry {
  const limits = { maxPendingStreams, maxConcurrentCalls: 1 } as LimitsConfig;
  return new CallRegistry(limits, new BridgeMetrics(), {} as CallDirectory);
}

const stream = (evicted: string[], name: string): PendingStream => ({
  evict: () => evicted.push(name),
});

describe('CallRegistry pending pool', () => {
  it('evicts the oldest waiting stream when a new one arrives at a full pool', () => {
    const calls = registry(2);
    const evicted: string[] = [];
    calls.addPending(stream(evicted, 'first'));
    calls.addPending(stream(evicted, 'second'));
    calls.addPending(stream(evicted, 'third'));
    expect(evicted).toEqual(['first']);
    expect(calls.pendingStreams.unauthenticated).toBe(2);
  });

  it('frees the place of a stream that leaves, so nobody is evicted for it', () => {
    const calls = registry(2);
    const evicted: string[] = [];
    const first = stream(evicted, 'first');
    calls.addPending(first);
    calls.addPending(stream(evicted, 'second'));
    calls.removePending(first);
    calls.addPending(stream(evicted, 'third'));
    expect(evicted).toEqual([]);
  });

  it('lets no unsigned upgrade push a signed one out: it evicts only unsigned ones, or itself', () => {
    const calls = registry(3);
    const evicted: string[] = [];
    calls.addPending(stream(evicted, 'twilio-1'), true);
    calls.addPending(stream(evicted, 'stranger-1'));
    calls.addPending(stream(evicted, 'twilio-2'), true);
    calls.addPending(stream(evicted, 'stranger-2'));
    expect(evicted).toEqual(['stranger-1']);
    calls.addPending(stream(evicted, 'stranger-3'));
    expect(evicted).toEqual(['stranger-1', 'stranger-2']);
    calls.addPending(stream(evicted, 'twilio-3'), true);
    expect(evicted).toEqual(['stranger-1', 'stranger-2', 'stranger-3']);
    // Every waiting stream is signed now: a stranger's upgrade is destroyed at once.
    for (let i = 4; i < 100; i++) calls.addPending(stream(evicted, `stranger-${i}`));
    expect(evicted.filter((name) => name.startsWith('twilio'))).toEqual([]);
    expect(calls.pendingStreams.unauthenticated).toBe(3);
  });

  it('evicts the oldest signed stream for a signed newcomer when no unsigned one waits', () => {
    const calls = registry(2);
    const evicted: string[] = [];
    calls.addPending(stream(evicted, 'signed-1'), true);
    calls.addPending(stream(evicted, 'signed-2'), true);
    calls.addPending(stream(evicted, 'signed-3'), true);
    expect(evicted).toEqual(['signed-1']);
  });

  it('takes no call slot for a waiting stream', () => {
    const calls = registry(5);
    for (let i = 0; i < 5; i++) calls.addPending(stream([], `${i}`));
    expect(calls.hasCapacity()).toBe(true);
  });
});
