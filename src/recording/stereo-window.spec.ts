import alawmulaw from 'alawmulaw';
import { MEDIA_BURST_S, MEDIA_CATCH_UP_S } from '../media-call/media-rate-limiter.js';
import { RECORDING_REORDER_WINDOW_MS, StereoWindow } from './stereo-window.js';

// Test audio is made with an independent G.711 implementation (alawmulaw).
const mulawOf = (value: number, samples: number): Buffer =>
  Buffer.from(alawmulaw.mulaw.encode(new Int16Array(samples).fill(value)));
const decoded = (value: number): number =>
  alawmulaw.mulaw.decodeSample(alawmulaw.mulaw.encodeSample(value));

/** The window's output as [left, right] sample arrays. */
function collect(maxMs = 60_000, windowMs = 100) {
  const chunks: Buffer[] = [];
  const window = new StereoWindow((pcm) => chunks.push(pcm), maxMs, windowMs);
  const channels = () => {
    const pcm = Buffer.concat(chunks);
    const left: number[] = [];
    const right: number[] = [];
    for (let i = 0; i < pcm.length; i += 4) {
      left.push(pcm.readInt16LE(i));
      right.push(pcm.readInt16LE(i + 2));
    }
    return { left, right };
  };
  return { window, chunks, channels };
}

describe('StereoWindow', () => {
  it('places each side at its own time, caller left and assistant right, silence between', () => {
    const { window, channels } = collect();
    window.put('caller', mulawOf(1000, 80), 0); // 0-10 ms
    window.put('assistant', mulawOf(-2000, 40), 20); // 20-25 ms
    window.finish();
    const { left, right } = channels();
    expect(left).toHaveLength(200);
    expect(left.slice(0, 80)).toEqual(new Array(80).fill(decoded(1000)));
    expect(left.slice(80)).toEqual(new Array(120).fill(0));
    expect(right.slice(0, 160)).toEqual(new Array(160).fill(0));
    expect(right.slice(160)).toEqual(new Array(40).fill(decoded(-2000)));
  });

  it('places a piece that starts within 2 ms of the previous one right after it (no click)', () => {
    const { window, channels } = collect();
    window.put('assistant', mulawOf(1000, 160), 0);
    window.put('assistant', mulawOf(1000, 160), 20.1); // one sample late: snapped
    window.put('assistant', mulawOf(1000, 160), 39.9); // one sample early: snapped
    window.put('assistant', mulawOf(1000, 160), 70); // a real gap of 10 ms: kept
    window.finish();
    const { right } = channels();
    expect(right.slice(0, 480)).toEqual(new Array(480).fill(decoded(1000)));
    expect(right.slice(480, 560)).toEqual(new Array(80).fill(0));
    expect(right.slice(560, 720)).toEqual(new Array(160).fill(decoded(1000)));
  });

  it('accepts audio that arrives out of order within the window', () => {
    const { window, channels } = collect(60_000, 100);
    window.put('caller', mulawOf(500, 160), 20);
    window.put('assistant', mulawOf(700, 160), 0); // arrives later, belongs earlier
    window.finish();
    const { left, right } = channels();
    expect(right.slice(0, 160)).toEqual(new Array(160).fill(decoded(700)));
    expect(left.slice(160, 320)).toEqual(new Array(160).fill(decoded(500)));
  });

  it('hands out audio older than the window while the call runs, holding only a bounded part', () => {
    const { window, chunks } = collect(60_000, 100);
    for (let ms = 0; ms < 1000; ms += 20) window.put('caller', mulawOf(100, 160), ms);
    const handedOut = chunks.reduce((sum, pcm) => sum + pcm.length / 4, 0);
    // At most two windows (1600 samples) held back of the 8000 placed.
    expect(handedOut).toBeGreaterThanOrEqual(8000 - 1600);
    window.finish();
    expect(chunks.reduce((sum, pcm) => sum + pcm.length / 4, 0)).toBe(8000);
  });

  it('drops and counts audio that arrives after its place was written', () => {
    const { window, channels } = collect(60_000, 100);
    for (let ms = 0; ms < 500; ms += 20) window.put('caller', mulawOf(100, 160), ms);
    window.put('assistant', mulawOf(900, 160), 0);
    expect(window.lateSamples).toBe(160);
    window.finish();
    expect(channels().right.slice(0, 160)).toEqual(new Array(160).fill(0));
  });

  it('records nothing past the longest recording', () => {
    const { window, channels } = collect(30, 100);
    window.put('caller', mulawOf(100, 400), 0); // 50 ms into a 30 ms limit
    window.finish();
    expect(channels().left).toHaveLength(240);
    expect(window.beyondLimitSamples).toBe(160);
  });

  it('places a piece longer than the window whole', () => {
    const { window, channels } = collect(60_000, 100);
    window.put('assistant', mulawOf(300, 4000), 10);
    window.finish();
    const { right } = channels();
    expect(right).toHaveLength(4080);
    expect(right.slice(80)).toEqual(new Array(4000).fill(decoded(300)));
  });

  it('keeps the place of caller frames held back behind the assistant while there is room', () => {
    const { window, channels } = collect(60_000, 100);
    for (let ms = 0; ms < 40; ms += 20) window.put('caller', mulawOf(100, 160), ms);
    // The assistant reaches 240 ms (past what the buffers hold, 200 ms) before the caller's
    // frames from 40 ms on arrive, held back together (a stall).
    for (let ms = 0; ms < 240; ms += 20) window.put('assistant', mulawOf(900, 160), ms);
    for (let ms = 40; ms < 240; ms += 20) window.put('caller', mulawOf(100, 160), ms);
    expect(window.lateSamples).toBe(0);
    window.finish();
    expect(channels().left).toEqual(new Array(1920).fill(decoded(100)));
  });

  it('writes past a caller that fell further behind than the buffers hold', () => {
    const { window } = collect(60_000, 100);
    window.put('caller', mulawOf(100, 160), 0);
    for (let ms = 0; ms < 400; ms += 20) window.put('assistant', mulawOf(900, 160), ms);
    window.put('caller', mulawOf(100, 160), 20);
    // Two windows (200 ms) are all it holds: the caller's frame from 20 ms is long written.
    expect(window.lateSamples).toBe(160);
  });

  it('holds as much as the media rate limiter lets a stalled stream catch up', () => {
    expect(RECORDING_REORDER_WINDOW_MS).toBeGreaterThanOrEqual(
      (MEDIA_CATCH_UP_S + MEDIA_BURST_S) * 1000,
    );
  });
});
