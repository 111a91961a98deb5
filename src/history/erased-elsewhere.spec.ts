import type { CallRegistry } from '../call/call-registry.service.js';
import type { CallDirectory } from '../directory/call-directory.js';
import { CallEventBus } from '../events/call-event-bus.js';
import {
  ERASED_ELSEWHERE_MEMORY_MS,
  ErasedElsewhere,
  MAX_ERASED_ELSEWHERE,
} from './erased-elsewhere.js';
import { HistoryEvent } from './history.constants.js';
import type { HistoryWriter } from './history-writer.js';
import { LiveCallCheck } from './live-call-check.js';

const sid = (n: number) => `CA${String(n).padStart(32, '0')}`;
const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** ErasedElsewhere over a writer that holds `held`, with `liveHere` live on this instance. */
function setUp(options: { held?: string[]; liveHere?: string[] } = {}) {
  let now = Date.parse('2026-12-07T12:00:00Z');
  const erased: Array<[string, boolean]> = [];
  const writer = {
    holds: (callSid: string) => (options.held ?? []).includes(callSid),
    erase: (callSid: string, ended: boolean) => {
      erased.push([callSid, ended]);
      return Promise.resolve(true);
    },
  } as unknown as HistoryWriter;
  const registry = {
    get: (callSid: string) => ((options.liveHere ?? []).includes(callSid) ? {} : undefined),
  } as unknown as CallRegistry;
  const live = new LiveCallCheck(registry, {} as CallDirectory);
  const events = new CallEventBus();
  const recordings: string[] = [];
  events.on(HistoryEvent.Erased, ({ callSid }: { callSid: string }) => recordings.push(callSid));
  const elsewhere = new ErasedElsewhere(writer, live, events, quiet, () => now);
  const at = (ms: number) => new Date(ms).toISOString();
  return {
    elsewhere,
    erased,
    recordings,
    at,
    get now() {
      return now;
    },
    advance: (ms: number) => (now += ms),
  };
}

describe('ErasedElsewhere', () => {
  it("erases the record this instance still holds, and the call's recording here", () => {
    const { elsewhere, erased, recordings } = setUp({ held: [sid(1)] });
    elsewhere.heard(sid(1));
    expect(erased).toEqual([[sid(1), false]]);
    expect(recordings).toEqual([sid(1)]);
  });

  it('writes nothing when it holds no record of the call, its recording erased all the same', () => {
    const { elsewhere, erased, recordings } = setUp();
    elsewhere.heard(sid(1));
    expect(erased).toEqual([]);
    expect(recordings).toEqual([sid(1)]);
  });

  it('drops the record of a call that ends only after the erasure was heard, and its open row', () => {
    const t = setUp();
    const startedAt = t.at(t.now - 60_000);
    t.elsewhere.heard(sid(1));
    t.advance(1_000);
    expect(t.elsewhere.dropsRecord(sid(1), startedAt)).toBe(true);
    expect(t.erased).toEqual([[sid(1), true]]);
    // Another call, and one that started after the erasure, are written as usual.
    expect(t.elsewhere.dropsRecord(sid(2), startedAt)).toBe(false);
    expect(t.elsewhere.dropsRecord(sid(1), t.at(t.now))).toBe(false);
  });

  it('keeps a call live here: it started since the erasure checked, and is not what was erased', () => {
    const t = setUp({ held: [sid(1)], liveHere: [sid(1)] });
    const startedAt = t.at(t.now);
    t.elsewhere.heard(sid(1));
    expect(t.erased).toEqual([]);
    expect(t.recordings).toEqual([]);
    expect(t.elsewhere.dropsRecord(sid(1), startedAt)).toBe(false);
  });

  it('remembers an erased call for ERASED_ELSEWHERE_MEMORY_MS, and MAX_ERASED_ELSEWHERE of them', () => {
    const t = setUp();
    const startedAt = t.at(t.now - 1_000);
    t.elsewhere.heard(sid(1));
    t.advance(ERASED_ELSEWHERE_MEMORY_MS + 1);
    expect(t.elsewhere.dropsRecord(sid(1), startedAt)).toBe(false);

    for (let n = 0; n <= MAX_ERASED_ELSEWHERE; n++) t.elsewhere.heard(sid(n));
    expect(t.elsewhere.dropsRecord(sid(0), startedAt)).toBe(false);
    expect(t.elsewhere.dropsRecord(sid(1), startedAt)).toBe(true);
  });
});
