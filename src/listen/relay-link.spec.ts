import { jest } from '@jest/globals';
import { z } from 'zod';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import {
  LISTEN_RELAY_KEEPALIVE_MS,
  LISTEN_RELAY_MAX_BATCH_FRAMES,
  LISTEN_RELAY_MAX_BYTES_PER_S,
  LISTEN_RELAY_MAX_QUEUED_FRAMES,
  LISTEN_RELAY_SILENCE_MS,
} from './listen.constants.js';
import { RelayLink } from './relay-link.js';

type Published = { type: string; seq: number; frames?: unknown[] };

/** The bus as the link sees it: channels in this process, messages as JSON, nothing signed. */
class MemoryChannels implements ClusterChannels {
  readonly instanceId = 'test';
  readonly published: Array<{ channel: string; body: Published }> = [];
  readonly handlers = new Map<string, (raw: Buffer) => void>();
  replays = 0;
  subscribe(channel: string, onMessage: (raw: Buffer) => void): Promise<() => void> {
    this.handlers.set(channel, onMessage);
    return Promise.resolve(() => this.handlers.delete(channel));
  }
  publish(channel: string, body: unknown): Promise<number> {
    this.published.push({ channel, body: body as Published });
    return Promise.resolve(1);
  }
  open<T>(_channel: string, raw: Buffer, schema: z.ZodType<T>): T | undefined {
    const parsed = schema.safeParse(JSON.parse(raw.toString()));
    return parsed.success ? parsed.data : undefined;
  }
  replayed(): void {
    this.replays++;
  }
  onClosing(): void {}
  deliver(channel: string, body: unknown): void {
    this.handlers.get(channel)?.(Buffer.from(JSON.stringify(body)));
  }
}

const inSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping'), seq: z.number() }),
  z.object({ type: z.literal('note'), seq: z.number(), text: z.string() }),
]);
type In = z.output<typeof inSchema>;
type Out =
  | { type: 'frames'; seq: number; frames: string[] }
  | { type: 'ping'; seq: number }
  | {
      type: 'close';
      seq: number;
    };

async function setUp() {
  const channels = new MemoryChannels();
  const got: In[] = [];
  const ended: Array<{ why: string; code: number }> = [];
  const link = new RelayLink<In, Out, string>(channels, 'out', 'in', inSchema, {
    message: (message) => got.push(message),
    ended: (why, code) => ended.push({ why, code }),
  });
  await link.start();
  return { channels, link, got, ended };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('RelayLink', () => {
  afterEach(() => jest.useRealTimers());

  it('numbers what it sends from 0, frames of one tick batched, messages after the frames before them', async () => {
    const { channels, link } = await setUp();
    link.frame('a', 1);
    link.frame('b', 1);
    link.finish({ type: 'close' });
    link.frame('after the end', 13);
    await flush();
    expect(channels.published.map((p) => p.body)).toEqual([
      { type: 'frames', frames: ['a', 'b'], seq: 0 },
      { type: 'close', seq: 1 },
    ]);
    expect(channels.handlers.size).toBe(0);
  });

  it('takes messages in order, drops a repeated one as a replay and ends on a gap', async () => {
    const { channels, got, ended } = await setUp();
    channels.deliver('in', { type: 'note', seq: 0, text: 'one' });
    channels.deliver('in', { type: 'note', seq: 0, text: 'one again' });
    channels.deliver('in', { type: 'ping', seq: 1 });
    channels.deliver('in', { type: 'note', seq: 2, text: 'two' });
    expect(got.map((m) => m.type === 'note' && m.text)).toEqual(['one', 'two']);
    expect(channels.replays).toBe(1);
    channels.deliver('in', { type: 'note', seq: 4, text: 'after a lost one' });
    expect(ended).toEqual([{ why: 'message 3 of the peer was lost', code: 1011 }]);
    expect(got).toHaveLength(2);
  });

  it('pings a quiet peer and takes a silent one for dead', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { channels, ended } = await setUp();
    jest.advanceTimersByTime(LISTEN_RELAY_KEEPALIVE_MS);
    await flush();
    expect(channels.published.map((p) => p.body)).toEqual([{ type: 'ping', seq: 0 }]);
    jest.advanceTimersByTime(LISTEN_RELAY_SILENCE_MS - LISTEN_RELAY_KEEPALIVE_MS - 1);
    channels.deliver('in', { type: 'ping', seq: 0 });
    jest.advanceTimersByTime(LISTEN_RELAY_SILENCE_MS - 1);
    expect(ended).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(ended).toEqual([
      { why: `nothing from the peer for ${LISTEN_RELAY_SILENCE_MS} ms`, code: 1011 },
    ]);
  });

  it('puts no more than LISTEN_RELAY_MAX_BYTES_PER_S on the bus, and ends past its queue (1008)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { channels, link, ended } = await setUp();
    const frame = 'x'.repeat(1000);
    // A second's budget at once: the rest waits for it to refill.
    for (let i = 0; i < LISTEN_RELAY_MAX_QUEUED_FRAMES; i++) link.frame(frame, frame.length);
    await flush();
    const sent = () => channels.published.reduce((sum, p) => sum + (p.body.frames?.length ?? 0), 0);
    const first = sent();
    expect(first).toBeGreaterThan(0);
    expect(first * frame.length).toBeLessThanOrEqual(LISTEN_RELAY_MAX_BYTES_PER_S);
    expect(
      channels.published.every(
        (p) => (p.body.frames?.length ?? 0) <= LISTEN_RELAY_MAX_BATCH_FRAMES,
      ),
    ).toBe(true);
    expect(link.queuedBytes).toBeGreaterThan(0);
    for (let i = 0; i <= first; i++) link.frame(frame, frame.length);
    expect(ended).toEqual([
      { why: `more than ${LISTEN_RELAY_MAX_QUEUED_FRAMES} frames waiting for the bus`, code: 1008 },
    ]);
  });
});
