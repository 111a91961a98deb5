import type { ModuleRef } from '@nestjs/core';
import { CallRegistry } from '../call/call-registry.service.js';
import type { CallSettingsService } from '../call/call-settings.service.js';
import type { LimitsConfig } from '../config/config.namespaces.js';
import type { Admission, CallDirectory } from '../directory/call-directory.js';
import { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import type { OpenAICallsClient } from './openai-calls.client.js';
import { SipCallsService } from './sip-calls.service.js';
import type { IncomingSipCall } from './sip-webhook.event.js';

/** The service over a cluster directory that answers each admission with `answer()`. */
function serviceWhereClusterSays(answer: () => Promise<Admission>) {
  const rejects: [string, number][] = [];
  const directory = {
    instanceId: 'B',
    admit: answer,
    release: () => Promise.resolve(),
  } as unknown as CallDirectory;
  const limits = { maxConcurrentCalls: 4, maxPendingStreams: 8 } as LimitsConfig;
  const registry = new CallRegistry(limits, new BridgeMetrics(), directory);
  const calls = {
    reject: (callId: string, status: number) =>
      Promise.resolve(void rejects.push([callId, status])),
  } as unknown as OpenAICallsClient;
  const settings = { profileFor: () => undefined } as unknown as CallSettingsService;
  // The call itself is never made here: resolving it throws, which admit logs.
  const moduleRef = { registerRequestByContextId: () => undefined } as unknown as ModuleRef;
  const service = new SipCallsService(registry, settings, calls, moduleRef, directory);
  return { service, rejects, registry };
}

const incoming: IncomingSipCall = { eventId: 'evt_1', callId: 'rtc_dup', sipHeaders: [] };

describe('SipCallsService admission', () => {
  it('ignores, and never rejects, a call already live on another instance', async () => {
    const { service, rejects, registry } = serviceWhereClusterSays(() =>
      Promise.resolve({
        ok: false,
        reason: 'a stream for this call is already live on another instance',
        why: 'live',
      }),
    );
    await service.admit(incoming);
    expect(rejects).toEqual([]);
    expect(registry.pendingStreams.authenticated).toBe(0);
  });

  it('rejects with 486 when the cluster is full', async () => {
    const { service, rejects } = serviceWhereClusterSays(() =>
      Promise.resolve({
        ok: false,
        reason: 'CLUSTER_MAX_CALLS (2) calls already live',
        why: 'full',
      }),
    );
    await service.admit(incoming);
    expect(rejects).toEqual([['rtc_dup', 486]]);
  });

  it('ignores a second delivery of a call while the first is still being admitted', async () => {
    // The cluster's lease takes a while (Redis); the first delivery holds it once answered.
    let leased = false;
    const { service, rejects } = serviceWhereClusterSays(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (leased) return { ok: false, reason: 'this call is already live', why: 'live' };
      leased = true;
      return { ok: true, degraded: false };
    });
    await Promise.all([service.admit(incoming), service.admit(incoming)]);
    expect(rejects).toEqual([]);
  });
});
