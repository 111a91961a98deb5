import { InMemoryStreamReplayMemory } from './stream-replay-memory.js';

const DAY_MS = 86_400_000;

describe('InMemoryStreamReplayMemory', () => {
  it('lets each CallSid claim its stream once', async () => {
    const memory = new InMemoryStreamReplayMemory(DAY_MS);
    expect(await memory.hasStream('CA1')).toBe(false);
    expect(await memory.claimStream('CA1')).toBe(true);
    expect(await memory.claimStream('CA1')).toBe(false);
    expect(await memory.hasStream('CA1')).toBe(true);
    expect(await memory.claimStream('CA2')).toBe(true);
  });

  it('remembers for its whole TTL and forgets after', async () => {
    let now = 0;
    const memory = new InMemoryStreamReplayMemory(DAY_MS, 100, () => now);
    await memory.claimStream('CA1');
    now = DAY_MS - 1;
    expect(await memory.claimStream('CA1')).toBe(false);
    now = DAY_MS;
    expect(await memory.hasStream('CA1')).toBe(false);
    expect(memory.size).toBe(0);
  });

  it('lets a CallSid stream again once its memory expired', async () => {
    let now = 0;
    const memory = new InMemoryStreamReplayMemory(DAY_MS, 100, () => now);
    await memory.claimStream('CA1');
    now = DAY_MS;
    expect(await memory.claimStream('CA1')).toBe(true);
    expect(memory.size).toBe(1);
  });

  it('lets one new stream through after the bridge itself moved the call', async () => {
    const memory = new InMemoryStreamReplayMemory(DAY_MS);
    await memory.claimStream('CA1');
    await memory.allowNewStream('CA1');
    expect(await memory.claimStream('CA1')).toBe(true);
    expect(await memory.claimStream('CA1')).toBe(false);
  });

  it('stays bounded, dropping the oldest entries', async () => {
    const memory = new InMemoryStreamReplayMemory(DAY_MS, 3);
    for (const sid of ['CA1', 'CA2', 'CA3', 'CA4']) await memory.claimStream(sid);
    expect(memory.size).toBe(3);
    expect(await memory.hasStream('CA1')).toBe(false);
    expect(await memory.hasStream('CA4')).toBe(true);
  });
});
