import type { z } from 'zod';
import type { ClusterChannels } from '../directory/cluster-channels.js';
import { MAX_BUS_MESSAGE_BYTES } from '../directory/cluster.constants.js';
import { sseFrame, sseFrameParts, type SseFrame } from '../http/sse-stream.js';
import { RelayedStream } from './stream-relay-host.service.js';
import { MAX_RELAYED_EVENT_BYTES, STREAM_RELAY_BOUNDS } from './stream-relay.constants.js';
import { relayDownSchema, sealedBytes } from './stream-relay.messages.js';

type Published = { type: string; seq: number; frames?: string[]; reason?: string };

/** The bus as a link sees it: channels in this process, messages as they are, nothing signed. */
class MemoryChannels implements ClusterChannels {
  readonly instanceId = 'owner';
  readonly published: Published[] = [];
  subscribe(): Promise<() => void> {
    return Promise.resolve(() => undefined);
  }
  publish(_channel: string, body: unknown): Promise<number> {
    this.published.push(body as Published);
    return Promise.resolve(1);
  }
  open<T>(_channel: string, raw: Buffer, schema: z.ZodType<T>): T | undefined {
    const parsed = schema.safeParse(JSON.parse(raw.toString()));
    return parsed.success ? parsed.data : undefined;
  }
  replayed(): void {}
  onClosing(): void {}
}

const flushed = () => new Promise((resolve) => setTimeout(resolve, 10));

async function relayedStream(shrink?: (frame: SseFrame) => SseFrame | undefined) {
  const channels = new MemoryChannels();
  const stream = new RelayedStream(channels, '00000000-0000-4000-8000-000000000000', shrink);
  await stream.link.start();
  let closed = 0;
  stream.onClose(() => closed++);
  return { channels, stream, closed: () => closed };
}

describe('a stream relayed from its owner', () => {
  it('carries events as written on the wire, in order, then its end with the reason', async () => {
    const { channels, stream, closed } = await relayedStream();
    stream.send('call.transcript', { role: 'caller', text: 'hello' });
    stream.sendFrame(sseFrame('call.ended', { outcome: 'completed' }));
    stream.close('the call ended');
    await flushed();
    expect(closed()).toBe(1);
    const frames = channels.published.flatMap((m) => m.frames ?? []);
    expect(frames).toEqual([
      'event: call.transcript\ndata: {"role":"caller","text":"hello"}\n\n',
      'event: call.ended\ndata: {"outcome":"completed"}\n\n',
    ]);
    expect(channels.published.at(-1)).toMatchObject({ type: 'close', reason: 'the call ended' });
    for (const message of channels.published) {
      expect(relayDownSchema.safeParse(message).success).toBe(true);
    }
  });

  it('sends a smaller event in place of one too big for the bus, or ends the stream', async () => {
    const huge = sseFrame('entry', { output: '\\'.repeat(20_000) });
    expect(sealedBytes(huge)).toBeGreaterThan(MAX_RELAYED_EVENT_BYTES);
    const small = sseFrame('entry', { output: 'cut' });
    const shrinking = await relayedStream(() => small);
    shrinking.stream.sendFrame(huge);
    await flushed();
    expect(shrinking.channels.published.flatMap((m) => m.frames ?? [])).toEqual([small]);
    expect(shrinking.closed()).toBe(0);

    // No shrink of the source's own: the event is cut as for a client, and the stream goes on.
    const plain = await relayedStream();
    plain.stream.sendFrame(huge);
    await flushed();
    expect(plain.closed()).toBe(0);
    const [cut] = plain.channels.published.flatMap((m) => m.frames ?? []);
    expect(sealedBytes(cut)).toBeLessThanOrEqual(MAX_RELAYED_EVENT_BYTES);
    expect(sseFrameParts(cut as SseFrame)).toMatchObject({
      event: 'entry',
      data: { output: expect.stringMatching(/^\\+…\[truncated\]$/) as unknown },
    });
  });

  it("relays a tool's large JSON output, which a client here gets whole, cut to fit the bus", async () => {
    // ~62 KB on the wire, within a client's bound; quoted twice on the bus, ~140 KB.
    const output = JSON.stringify(Array.from({ length: 2150 }, (_, i) => ({ id: i, n: `i${i}` })));
    const tool = sseFrame('call.tool', { event: 'call.tool', name: 'lookup', output, ok: true });
    expect(tool).not.toContain('truncated');
    expect(sealedBytes(tool)).toBeGreaterThan(MAX_RELAYED_EVENT_BYTES);
    const { channels, stream, closed } = await relayedStream();
    stream.sendFrame(tool);
    stream.send('call.ended', { event: 'call.ended' });
    await flushed();
    expect(closed()).toBe(0);
    const frames = channels.published.flatMap((m) => m.frames ?? []);
    expect(frames.map((frame) => sseFrameParts(frame as SseFrame).event)).toEqual([
      'call.tool',
      'call.ended',
    ]);
    expect(sseFrameParts(frames[0] as SseFrame).data).toMatchObject({
      name: 'lookup',
      ok: true,
      output: expect.stringContaining('…[truncated]') as unknown,
    });
  });

  it('keeps a batch and its rate budget above one event, so no event waits for ever', () => {
    const { batchBytes, bytesPerS } = STREAM_RELAY_BOUNDS;
    expect(batchBytes).toBeGreaterThanOrEqual(MAX_RELAYED_EVENT_BYTES);
    expect(batchBytes + 1024).toBeLessThan(MAX_BUS_MESSAGE_BYTES);
    expect(bytesPerS).toBeGreaterThan(MAX_RELAYED_EVENT_BYTES + 1024);
  });

  it('takes only whole events from the owner', () => {
    const frames = (frame: string) =>
      relayDownSchema.safeParse({ type: 'frames', seq: 0, frames: [frame] }).success;
    expect(frames(sseFrame('entry', { kind: 'dtmf', digit: '1' }))).toBe(true);
    expect(frames(sseFrame('call.dtmf', { digit: '1' }))).toBe(true);
    expect(frames('event: entry\ndata: {}\n\nevent: ended\ndata: {}\n\n')).toBe(false);
    expect(frames('event: entry\nid: 3\ndata: {}\n\n')).toBe(false);
    expect(frames(': comment\n\n')).toBe(false);
  });
});
