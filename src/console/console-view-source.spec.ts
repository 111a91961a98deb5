import { MAX_BUS_MESSAGE_BYTES } from '../directory/cluster.constants.js';
import { sseFrame } from '../http/sse-stream.js';
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import { MAX_RELAYED_EVENT_BYTES } from '../stream-relay/stream-relay.constants.js';
import { relayDownSchema, sealedBytes } from '../stream-relay/stream-relay.messages.js';
import { detailWithin, type CallDetail, type ConsoleCallRow } from './console-call.views.js';
import { smallerSnapshot, snapshotOf } from './console-view-source.js';

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

describe('the console view on the stream relay', () => {
  it('fits a snapshot whose escaping would burst a bus message, keeping its newest entries', () => {
    const detail = toolHeavyCall(200);
    const frame = sseFrame('snapshot', detailWithin(detail, MAX_SSE_EVENT_BYTES));
    // Within the event bound, but nearly four times as big once quoted twice (a bus message holds
    // 256 KiB: with the batch around it, or a second event, it would be dropped as oversize).
    expect(frame.length).toBeLessThanOrEqual(MAX_SSE_EVENT_BYTES + 64);
    expect(sealedBytes(frame)).toBeGreaterThan(0.9 * MAX_BUS_MESSAGE_BYTES);
    const smaller = smallerSnapshot(frame)!;
    expect(sealedBytes(smaller)).toBeLessThanOrEqual(MAX_RELAYED_EVENT_BYTES);
    const snapshot = snapshotOf(smaller)!;
    expect(snapshot.truncated).toBe(true);
    expect(snapshot.call).toEqual(call);
    expect(snapshot.entries.at(-1)).toEqual(detail.entries.at(-1));
    expect(snapshot.entries.length + snapshot.droppedEntries).toBe(200);
    // What the asking side accepts.
    const frames = { type: 'frames', seq: 1, frames: [smaller] };
    expect(relayDownSchema.safeParse(frames).success).toBe(true);
  });

  it('shrinks no other event', () => {
    const entry = toolHeavyCall(1).entries[0];
    expect(smallerSnapshot(sseFrame('entry', { ...entry, output: '\\'.repeat(20_000) }))).toBe(
      undefined,
    );
  });
});
