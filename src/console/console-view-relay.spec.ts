import { sseFrame } from '../http/sse-stream.js';
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import { detailWithin, type CallDetail, type ConsoleCallRow } from './console-call.views.js';
import { relayable } from './console-view-relay-host.service.js';
import { sealedBytes, viewDownSchema } from './console-view-relay.messages.js';
import { CONSOLE_VIEW_RELAY_BOUNDS, MAX_RELAYED_VIEW_EVENT_BYTES } from './console.constants.js';
import { MAX_BUS_MESSAGE_BYTES } from '../directory/cluster.constants.js';

const call = { callSid: 'CA1', from: '+15550001111', direction: 'inbound' } as ConsoleCallRow;

/** A call whose tool outputs are backslashes: escaped again at every level. */
function toolHeavyCall(tools: number): CallDetail {
  const output = '\\'.repeat(3000);
  const entries = Array.from({ length: tools }, (_, i) => ({
    at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    kind: 'tool' as const,
    name: 'lookup',
    callId: `call_${i}`,
    arguments: '{}',
    output,
    ok: true,
    durationMs: 3,
  }));
  return { call, entries, droppedEntries: 0 };
}

describe('the console view relay on the bus', () => {
  it('relays an event that fits as it is, sized as sealed', () => {
    const frame = sseFrame('stats', { state: 'talking', levels: { caller: -40 } });
    expect(relayable(frame)).toEqual({ frame, bytes: sealedBytes(frame) });
  });

  it('fits a snapshot whose escaping would burst a bus message, keeping its newest entries', () => {
    const detail = toolHeavyCall(200);
    const frame = sseFrame('snapshot', detailWithin(detail, MAX_SSE_EVENT_BYTES));
    // Within the event bound, but nearly four times as big once quoted twice (a bus message holds
    // 256 KiB: with the batch around it, or a second event, it would be dropped as oversize).
    expect(frame.length).toBeLessThanOrEqual(MAX_SSE_EVENT_BYTES + 64);
    expect(sealedBytes(frame)).toBeGreaterThan(0.9 * MAX_BUS_MESSAGE_BYTES);
    const relayed = relayable(frame)!;
    expect(relayed.bytes).toBeLessThanOrEqual(MAX_RELAYED_VIEW_EVENT_BYTES);
    const snapshot = JSON.parse(
      relayed.frame.slice('event: snapshot\ndata: '.length),
    ) as CallDetail;
    expect(snapshot.truncated).toBe(true);
    expect(snapshot.call).toEqual(call);
    expect(snapshot.entries.at(-1)).toEqual(detail.entries.at(-1));
    expect(snapshot.entries.length + snapshot.droppedEntries).toBe(200);
    // What the asker accepts.
    expect(
      viewDownSchema.safeParse({ type: 'frames', seq: 1, frames: [relayed.frame] }).success,
    ).toBe(true);
  });

  it('relays no other event too big for the bus', () => {
    const entry = toolHeavyCall(1).entries[0];
    const huge = sseFrame('entry', { ...entry, output: '\\'.repeat(20_000) });
    expect(relayable(huge)).toBeUndefined();
  });

  it('keeps a batch and its rate budget above one event, so no event waits for ever', () => {
    const { batchBytes, bytesPerS } = CONSOLE_VIEW_RELAY_BOUNDS;
    expect(batchBytes).toBeGreaterThanOrEqual(MAX_RELAYED_VIEW_EVENT_BYTES);
    expect(batchBytes + 1024).toBeLessThan(MAX_BUS_MESSAGE_BYTES);
    expect(bytesPerS).toBeGreaterThan(MAX_RELAYED_VIEW_EVENT_BYTES + 1024);
  });

  it('takes only the four events of a call view from the owner', () => {
    const frames = (frame: string) =>
      viewDownSchema.safeParse({ type: 'frames', seq: 0, frames: [frame] });
    expect(frames(sseFrame('entry', { kind: 'dtmf', digit: '1' })).success).toBe(true);
    expect(frames('event: calls\ndata: {}\n\n').success).toBe(false);
    expect(frames('event: entry\ndata: {}\n\nevent: ended\ndata: {}\n\n').success).toBe(false);
    expect(frames(': comment\n\n').success).toBe(false);
  });
});
