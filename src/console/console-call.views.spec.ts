import { sseEventJson } from '../http/sse-event.js';
import { MAX_SSE_EVENT_BYTES } from '../http/sse.constants.js';
import { detailWithin, type CallDetail, type ConsoleCallRow } from './console-call.views.js';

const call = { callSid: 'CA1', from: '+15550001111', direction: 'inbound' } as ConsoleCallRow;

function longCall(turns: number): CallDetail {
  const entries = Array.from({ length: turns }, (_, i) => ({
    at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    kind: 'turn' as const,
    role: i % 2 === 0 ? ('caller' as const) : ('assistant' as const),
    text: `turn ${i}: ${'words '.repeat(55)}`,
  }));
  return { call, entries, droppedEntries: 3 };
}

describe('detailWithin', () => {
  it('gives a detail that fits as it is', () => {
    const detail = longCall(10);
    expect(detailWithin(detail, MAX_SSE_EVENT_BYTES)).toBe(detail);
  });

  it('keeps the call and as many of the newest entries as fit, counting the rest as dropped', () => {
    const detail = longCall(500);
    expect(Buffer.byteLength(JSON.stringify(detail))).toBeGreaterThan(MAX_SSE_EVENT_BYTES);
    const within = detailWithin(detail, MAX_SSE_EVENT_BYTES);
    const json = JSON.stringify(within);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(MAX_SSE_EVENT_BYTES);
    expect(within.call).toEqual(call);
    expect(within.truncated).toBe(true);
    expect(within.entries.at(-1)).toEqual(detail.entries.at(-1));
    expect(within.entries.length + within.droppedEntries).toBe(500 + 3);
    // One more entry would not have fitted.
    const oneMore = { ...within, entries: detail.entries.slice(-within.entries.length - 1) };
    expect(Buffer.byteLength(JSON.stringify(oneMore))).toBeGreaterThan(MAX_SSE_EVENT_BYTES);
    // The event then goes out whole, not as a stub of its short fields.
    expect(JSON.parse(sseEventJson(within, MAX_SSE_EVENT_BYTES))).toEqual(within);
  });
});
