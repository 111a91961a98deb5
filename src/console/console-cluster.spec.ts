import type { Request } from 'express';
import type { CallRegistry, LiveCall as LocalCall } from '../call/call-registry.service.js';
import type {
  CallDirectory,
  CallListing,
  CallRecordEntry,
  ControlCommand,
  ControlResult,
  DirectoryHealth,
  LiveCall,
} from '../directory/call-directory.js';
import { CallControlService } from '../call-control/call-control.service.js';
import { CallMonitor } from './call-monitor.service.js';
import { CallEventBus } from '../events/call-event-bus.js';
import { ConsoleApiController } from './console-api.controller.js';
import { StreamRelayClient } from '../stream-relay/stream-relay-client.service.js';

const HERE = 'bridge-a';
const LOCAL_SID = `CA${'a'.repeat(32)}`;
const REMOTE_SID = `CA${'b'.repeat(32)}`;
const OLD_SID = `CA${'c'.repeat(32)}`;

/** The shared directory of a two-instance cluster, seen from bridge-a. */
class FakeDirectory {
  readonly instanceId = HERE;
  readonly commands: Array<{ callSid: string; command: ControlCommand }> = [];
  calls: LiveCall[] = [
    {
      callSid: LOCAL_SID,
      instance: HERE,
      from: '+15550000001',
      startedAt: '2026-01-01T10:00:00.000Z',
      direction: 'inbound',
    },
    {
      callSid: REMOTE_SID,
      instance: 'bridge-b',
      from: '+15550000002',
      to: '+15559990000',
      startedAt: '2026-01-01T10:01:00.000Z',
      direction: 'outbound',
      profile: 'sales',
      transport: 'media',
    },
  ];
  records: CallRecordEntry[] = [
    {
      callSid: OLD_SID,
      instance: 'bridge-b',
      event: 'call.ended',
      at: '2026-01-01T09:00:30.000Z',
      durationS: 30,
      outcome: 'completed',
      reason: 'caller hung up',
      turns: { caller: 2, assistant: 3 },
      interruptions: 1,
      usage: { totalTokens: 1234 },
    },
  ];

  health(): DirectoryHealth {
    return { mode: 'redis', instance: HERE, store: 'up' };
  }

  onCallErased(): void {}

  /** No bus here: a call of another instance has no view to relay. */
  channels() {
    return undefined;
  }
  /** Set when the store could not be read: the directory lists this instance's calls only. */
  partial = false;
  listing(): Promise<CallListing> {
    return Promise.resolve({ calls: this.calls, partial: this.partial });
  }
  recentRecords(): Promise<CallRecordEntry[]> {
    return Promise.resolve(this.records);
  }
  control(callSid: string, command: ControlCommand): Promise<ControlResult> {
    this.commands.push({ callSid, command });
    const known = this.calls.some((call) => call.callSid === callSid);
    if (!known) return Promise.resolve({ ok: false, error: 'unknown_call', reason: 'no call' });
    return Promise.resolve(
      command.action === 'transfer'
        ? { ok: true, status: 'transferring', to: command.number }
        : { ok: true, status: 'completed' },
    );
  }
}

/** This instance's registry: one call of its own, and it must never act on a call itself. */
function fakeRegistry(): CallRegistry {
  const session = {
    context: {
      callSid: LOCAL_SID,
      from: '+15550000001',
      customParameters: {},
      startedAt: new Date('2026-01-01T10:00:00.000Z'),
      transport: 'media',
      transfer: () => {
        throw new Error('a remote transfer must not reach a local session');
      },
    },
    activity: { status: () => ({ state: 'assistant-speaking' }) },
    close: () => {
      throw new Error('the console must hang up through the directory');
    },
  } as unknown as LocalCall;
  return {
    all: () => [session],
    get: (callSid: string) => (callSid === LOCAL_SID ? session : undefined),
  } as unknown as CallRegistry;
}

const jsonRequest = { is: () => 'application/json' } as unknown as Request;

describe('console in cluster mode', () => {
  let directory: FakeDirectory;
  let monitor: CallMonitor;
  let api: ConsoleApiController;

  beforeEach(() => {
    directory = new FakeDirectory();
    const registry = fakeRegistry();
    monitor = new CallMonitor(registry, directory as unknown as CallDirectory, new CallEventBus());
    const none = {} as never;
    const callControl = { transferNumber: '+15551112222', transferAllowedNumbers: [] } as never;
    const rest = { available: true } as never;
    const control = new CallControlService(
      directory as unknown as CallDirectory,
      registry,
      rest,
      callControl,
    );
    api = new ConsoleApiController(
      monitor,
      none,
      registry,
      rest,
      none,
      none,
      none,
      control,
      { enabled: false } as never,
      none,
      new StreamRelayClient(directory as unknown as CallDirectory),
      callControl,
      none,
      none,
      none,
      none,
      none,
    );
  });

  it("lists every call of the cluster with its owner, this instance's in detail", async () => {
    const { calls } = await api.calls();
    expect(calls).toEqual([
      expect.objectContaining({
        callSid: LOCAL_SID,
        instance: HERE,
        state: 'assistant-speaking',
      }),
      {
        callSid: REMOTE_SID,
        instance: 'bridge-b',
        from: '+15550000002',
        to: '+15559990000',
        direction: 'outbound',
        profile: 'sales',
        startedAt: '2026-01-01T10:01:00.000Z',
        state: 'remote',
        transport: 'media',
      },
    ]);
  });

  it("lists this instance's calls only when the shared store fails, and says the list is partial", async () => {
    expect((await api.calls()).partial).toBeUndefined();
    directory.listing = () => Promise.reject(new Error('redis down'));
    const { calls, partial } = await api.calls();
    expect(calls.map((call) => call.callSid)).toEqual([LOCAL_SID]);
    expect(partial).toBe(true);
  });

  it('says the list is partial when the directory could list only this instance', async () => {
    directory.partial = true;
    const { calls, partial } = await api.calls();
    expect(calls).toHaveLength(2);
    expect(partial).toBe(true);
  });

  it('hangs up a call of another instance through its owner', async () => {
    await expect(api.hangUp(REMOTE_SID, jsonRequest)).resolves.toEqual({
      callSid: REMOTE_SID,
      status: 'completed',
    });
    expect(directory.commands).toEqual([{ callSid: REMOTE_SID, command: { action: 'hangup' } }]);
  });

  it('hangs up its own call through the directory too, and passes on a 404', async () => {
    await api.hangUp(LOCAL_SID, jsonRequest);
    expect(directory.commands).toEqual([{ callSid: LOCAL_SID, command: { action: 'hangup' } }]);
    await expect(api.hangUp(OLD_SID, jsonRequest)).rejects.toMatchObject({ status: 404 });
  });

  it('transfers a call of another instance through its owner, to an allowed number', async () => {
    await expect(
      api.transfer(REMOTE_SID, { to: '+15551112222' }, jsonRequest),
    ).resolves.toMatchObject({ status: 'transferring' });
    expect(directory.commands).toEqual([
      {
        callSid: REMOTE_SID,
        command: { action: 'transfer', number: '+15551112222', announce: true },
      },
    ]);
    await expect(
      api.transfer(REMOTE_SID, { to: '+15550000000' }, jsonRequest),
    ).rejects.toMatchObject({ status: 400 });
    expect(directory.commands).toHaveLength(1);
  });

  it("lists the cluster's recent calls, and opens one's record", async () => {
    const { calls } = await api.recent();
    expect(calls).toEqual([
      {
        call: expect.objectContaining({ callSid: OLD_SID, instance: 'bridge-b', state: 'ended' }),
        endedAt: '2026-01-01T09:00:30.000Z',
        durationS: 30,
        outcome: 'completed',
        reason: 'caller hung up',
        turns: { caller: 2, assistant: 3 },
        interruptions: 1,
        totalTokens: 1234,
      },
    ]);
    const detail = await api.call(OLD_SID);
    expect(detail.record).toMatchObject({ callSid: OLD_SID, outcome: 'completed' });
    expect(detail.call.startedAt).toBe('2026-01-01T09:00:00.000Z');
  });
});
