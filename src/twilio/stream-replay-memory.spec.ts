import { EventEmitter2 } from '@nestjs/event-emitter';
import { MemoryCallDirectory } from '../directory/memory-call-directory.js';
import type { TtlMemoryOptions } from '../directory/ttl-memory.js';
import { StreamReplayMemory } from './stream-replay-memory.js';

const DAY_S = 86_400;

/** The replay memory over the default (in-memory) CallDirectory. */
function replayMemory(memory: TtlMemoryOptions = {}): StreamReplayMemory {
  const directory = new MemoryCallDirectory({
    instanceId: 'A',
    events: new EventEmitter2(),
    memory,
  });
  return new StreamReplayMemory(directory, { streamReplayMemoryS: DAY_S });
}

describe('StreamReplayMemory', () => {
  it('lets each CallSid claim its stream once', async () => {
    const memory = replayMemory();
    expect(await memory.hasStream('CA1')).toBe(false);
    expect(await memory.claimStream('CA1')).toBe(true);
    expect(await memory.claimStream('CA1')).toBe(false);
    expect(await memory.hasStream('CA1')).toBe(true);
    expect(await memory.claimStream('CA2')).toBe(true);
  });

  it('remembers for its whole TTL and forgets after', async () => {
    let now = 0;
    const memory = replayMemory({ now: () => now });
    await memory.claimStream('CA1');
    now = DAY_S * 1000 - 1;
    expect(await memory.claimStream('CA1')).toBe(false);
    now = DAY_S * 1000;
    expect(await memory.hasStream('CA1')).toBe(false);
    expect(await memory.claimStream('CA1')).toBe(true);
  });

  it('lets one new stream through after the bridge itself moved the call', async () => {
    const memory = replayMemory();
    await memory.claimStream('CA1');
    await memory.allowNewStream('CA1');
    expect(await memory.claimStream('CA1')).toBe(true);
    expect(await memory.claimStream('CA1')).toBe(false);
  });

  it('stays bounded, dropping the oldest entries', async () => {
    const memory = replayMemory({ maxEntries: { 'stream-started': 3 } });
    for (const sid of ['CA1', 'CA2', 'CA3', 'CA4']) await memory.claimStream(sid);
    expect(await memory.hasStream('CA1')).toBe(false);
    for (const sid of ['CA2', 'CA3', 'CA4']) expect(await memory.hasStream(sid)).toBe(true);
  });
});
