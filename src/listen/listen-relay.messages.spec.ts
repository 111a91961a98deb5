import { randomUUID } from 'node:crypto';
import {
  fromRelayFrame,
  relayDownSchema,
  relayOpenSchema,
  relayUpSchema,
  toRelayFrame,
} from './listen-relay.messages.js';
import { LISTEN_RELAY_MAX_BATCH_FRAMES } from './listen.constants.js';
import { listenOutbound } from './listen.messages.js';

describe('listen relay messages', () => {
  it('carries a media frame as its parts and rebuilds it byte for byte', () => {
    const frame = listenOutbound.media('assistant', 1234.4, Buffer.from([0xff, 0x7f, 0x00]));
    const carried = toRelayFrame(frame);
    expect(carried).toEqual(['a', 1234, Buffer.from([0xff, 0x7f, 0x00]).toString('base64')]);
    const read = relayDownSchema.parse({ type: 'frames', seq: 3, frames: [carried] });
    expect(read.type === 'frames' && fromRelayFrame(read.frames[0])).toBe(frame);
  });

  it('carries any other frame as its text', () => {
    const start = listenOutbound.start('CA0123', 'assistant');
    expect(toRelayFrame(start)).toBe(start);
    expect(fromRelayFrame(start)).toBe(start);
  });

  it('refuses a media payload that is not base64, an unknown track, a batch too large', () => {
    const frames = (list: unknown[]) =>
      relayDownSchema.safeParse({ type: 'frames', seq: 0, frames: list });
    expect(frames([['c', 0, 'AAAA']]).success).toBe(true);
    expect(frames([['c', 0, '"},{"event":"takeover']]).success).toBe(false);
    expect(frames([['x', 0, 'AAAA']]).success).toBe(false);
    expect(frames(Array(LISTEN_RELAY_MAX_BATCH_FRAMES + 1).fill('x')).success).toBe(false);
    expect(relayUpSchema.safeParse({ type: 'frames', seq: 0, frames: [null, 'x'] }).success).toBe(
      true,
    );
    expect(relayUpSchema.safeParse({ type: 'takeover', seq: 0 }).success).toBe(false);
  });

  it('names the operator only as the asking instance may: api or a console session digest', () => {
    const open = (operator: string) =>
      relayOpenSchema.safeParse({
        type: 'open',
        session: randomUUID(),
        callSid: 'CA0123',
        operator,
        from: 'listen-b',
      }).success;
    expect(open('api')).toBe(true);
    expect(open('console:Mm45SICp-_9a')).toBe(true);
    expect(open('Alice <script>')).toBe(false);
  });
});
