import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { FakeOpenAICalls } from '../../test/support/fake-openai-calls.js';
import type { OpenAIConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { CallEventBus } from '../events/call-event-bus.js';
import { HistoryEvent } from '../history/history.constants.js';
import type { LostCall } from '../history/history-record.js';
import type { LiveCall, OrphanedLineHandler } from '../directory/call-directory.js';
import { MemoryCallDirectory } from '../directory/memory-call-directory.js';
import { RealtimeCredentials } from '../realtime/realtime-credentials.service.js';
import { OpenAICallsClient } from './openai-calls.client.js';
import { createOpenAIClient } from './openai-client.provider.js';
import { OrphanedSipCalls } from './orphaned-sip-calls.service.js';

/** A directory that hands its orphaned-line handler to the test (Redis's finds the lines). */
class DirectoryWithLines extends MemoryCallDirectory {
  orphanHandler?: OrphanedLineHandler;

  override onOrphanedLine(handler: OrphanedLineHandler): void {
    this.orphanHandler = handler;
  }
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
}

const orphan = (callSid: string, instance: string): LiveCall => ({
  callSid,
  instance,
  startedAt: new Date().toISOString(),
  direction: 'inbound',
  transport: 'sip',
});

describe('OrphanedSipCalls', () => {
  let api: FakeOpenAICalls;
  let directory: DirectoryWithLines;
  let events: CallEventBus;
  const lines: string[] = [];

  function service(webhookSecret?: string): OrphanedSipCalls {
    const config = {
      apiKey: new Secret('sk-proj-unit-test-key-for-orphaned-calls'),
      apiBaseUrl: api.url,
      ...(webhookSecret ? { webhookSecret: new Secret(webhookSecret) } : {}),
    } as OpenAIConfig;
    const client = new OpenAICallsClient(
      createOpenAIClient(config),
      new RealtimeCredentials(config, {} as ModuleRef),
    );
    const orphans = new OrphanedSipCalls(directory, client, config, events);
    orphans.onModuleInit();
    return orphans;
  }

  beforeEach(async () => {
    api = new FakeOpenAICalls();
    await api.start();
    directory = new DirectoryWithLines({ instanceId: 'A', events: new EventEmitter2() });
    events = new CallEventBus();
    lines.length = 0;
    for (const level of ['log', 'warn', 'error'] as const) {
      jest
        .spyOn(Logger.prototype, level)
        .mockImplementation((message: unknown) => void lines.push(`${level}: ${String(message)}`));
    }
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    directory.dispose();
    await api.stop();
  });

  it('looks after other instances’ lines only where SIP calls are taken', () => {
    service();
    expect(directory.orphanHandler).toBeUndefined();
    expect(events.listenerCount(HistoryEvent.CallLost)).toBe(0);
    service('whsec_dGhlIHVuaXQga2V5');
    expect(directory.orphanHandler).toBeDefined();
    expect(events.listenerCount(HistoryEvent.CallLost)).toBe(1);
  });

  it('hangs up a call whose instance is gone, and says so', async () => {
    service('whsec_dGhlIHVuaXQga2V5');
    await directory.orphanHandler!(orphan('rtc_gone1', 'B'));
    expect(api.of('hangup', 'rtc_gone1')).toHaveLength(1);
    expect(lines).toEqual([
      'warn: SIP call rtc_gone1 lost its instance B (no heartbeat for its line in over 30 s): ' +
        'hung up, so the caller is not left with an assistant no one runs',
    ]);
  });

  it('names a line of its own as one whose hang-up was never confirmed', async () => {
    service('whsec_dGhlIHVuaXQga2V5');
    await directory.orphanHandler!(orphan('rtc_mine1', 'A'));
    expect(lines).toEqual([
      expect.stringMatching(/^warn: SIP call rtc_mine1 ended here, .* without OpenAI confirming/),
    ]);
  });

  it('tells a call that had already ended (404) from a hang-up that failed, never rejecting', async () => {
    service('whsec_dGhlIHVuaXQga2V5');
    api.statusFor.hangup = [404];
    await directory.orphanHandler!(orphan('rtc_over1', 'B'));
    api.statusFor.hangup = [503, 503, 503];
    await directory.orphanHandler!(orphan('rtc_down1', 'B'));
    expect(lines).toEqual([
      expect.stringMatching(/^log: SIP call rtc_over1 .*: the call had already ended$/),
      expect.stringMatching(/^error: SIP call rtc_down1 .*: the hang-up failed: hangup rtc_down1/),
    ]);
    expect(api.of('hangup', 'rtc_down1')).toHaveLength(3);
  });

  it("hangs up a predecessor's SIP call the history found lost, and nothing merely unseen", async () => {
    service('whsec_dGhlIHVuaXQga2V5');
    const lost = (callSid: string, transport: string, predecessor: boolean): LostCall => ({
      callSid,
      owner: 'A/0a0a0a0a',
      streamSid: callSid,
      transport,
      direction: 'inbound',
      from: null,
      to: null,
      profile: null,
      startedAt: new Date().toISOString(),
      seenAt: new Date().toISOString(),
      transcript: [],
      predecessor,
    });
    events.emit(HistoryEvent.CallLost, lost('rtc_prev1', 'sip', true));
    events.emit(HistoryEvent.CallLost, lost('rtc_unseen1', 'sip', false));
    events.emit(HistoryEvent.CallLost, lost('CA0000000000000000000000000000000a', 'media', true));
    await waitFor(() => lines.length > 0);

    expect(api.of('hangup', 'rtc_prev1')).toHaveLength(1);
    expect(api.of('hangup', 'rtc_unseen1')).toHaveLength(0);
    expect(lines).toEqual([
      'warn: SIP call rtc_prev1 was lost with an earlier process of this instance (A/0a0a0a0a): ' +
        'hung up, so the caller is not left with an assistant no one runs',
    ]);
  });
});
