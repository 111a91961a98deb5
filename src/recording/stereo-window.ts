import { endianness } from 'node:os';
import { decodeMulawRange } from '../audio/mulaw.js';
import { MEDIA_BURST_S, MEDIA_CATCH_UP_S } from '../media-call/media-rate-limiter.js';
import { WAV_FRAME_BYTES, WAV_SAMPLE_RATE } from './wav.js';

/**
 * How long audio is held before it is written: the caller's frames and the assistant's heard
 * audio reach the recording at different moments, so each sample waits until the other side
 * has had time to arrive. Audio is held at least this long, at most twice. It covers what the
 * media rate limiter lets a stalled stream deliver at once (its catch-up and its burst), so
 * caller frames a network hiccup held back are placed, not dropped.
 */
export const RECORDING_REORDER_WINDOW_MS = (MEDIA_CATCH_UP_S + MEDIA_BURST_S) * 1000;

/**
 * A piece that starts this close to where the same side's previous piece ended is placed right
 * after it: the times of consecutive pieces come from clocks read at different moments, and a
 * sample of silence (or of overlap) between them would be an audible click every 20 ms.
 */
export const RECORDING_CONTIGUITY_MS = 2;

export type RecordedChannel = 'caller' | 'assistant';

const SAMPLES_PER_MS = WAV_SAMPLE_RATE / 1000;
/** WAV is little-endian: on such a machine samples are copied as they are, else byte by byte. */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Places two mono mu-law streams, each piece at its own time on the call's clock, into
 * interleaved 16-bit stereo: silence wherever nothing was placed, the caller on the left
 * (channel 1), the assistant on the right. Memory is bounded by the window: audio older than
 * it is handed to `out` as PCM, in order (the rest by `finish`), audio arriving after its place
 * was handed out is dropped and counted, and nothing is placed past `maxMs`. Nothing is handed
 * out past where the caller's frames have reached unless the buffers are full: they come in
 * order, so a late one is the whole stream held back, and its place is kept for it.
 */
export class StereoWindow {
  /** Samples dropped because they arrived after their place was written. */
  lateSamples = 0;
  /** Samples dropped because they lie beyond the longest recording. */
  beyondLimitSamples = 0;
  private readonly windowSamples: number;
  private readonly capacity: number;
  private readonly maxSamples: number;
  private readonly left: Int16Array;
  private readonly right: Int16Array;
  /** The call's sample index of the buffers' first sample: everything before is handed out. */
  private base = 0;
  /** One past the latest sample placed. */
  private end = 0;
  /** Where each side's previous piece ended (-1: nothing placed yet). */
  private callerNext = -1;
  private assistantNext = -1;
  private readonly contiguitySamples = Math.round(RECORDING_CONTIGUITY_MS * SAMPLES_PER_MS);

  constructor(
    private readonly out: (pcm: Buffer) => void,
    maxMs: number,
    windowMs = RECORDING_REORDER_WINDOW_MS,
  ) {
    this.windowSamples = Math.max(1, Math.round(windowMs * SAMPLES_PER_MS));
    this.capacity = 2 * this.windowSamples;
    this.maxSamples = Math.max(0, Math.round(maxMs * SAMPLES_PER_MS));
    this.left = new Int16Array(this.capacity);
    this.right = new Int16Array(this.capacity);
  }

  /** Places `mulaw` at `atMs` on `channel`; what leaves the window goes to `out`. */
  put(channel: RecordedChannel, mulaw: Uint8Array, atMs: number): void {
    let start = Math.round(atMs * SAMPLES_PER_MS);
    const next = channel === 'caller' ? this.callerNext : this.assistantNext;
    if (next >= 0 && Math.abs(start - next) <= this.contiguitySamples) start = next;
    if (channel === 'caller') this.callerNext = start + mulaw.length;
    else this.assistantNext = start + mulaw.length;
    let length = mulaw.length;
    if (start + length > this.maxSamples) {
      const kept = Math.max(0, this.maxSamples - start);
      this.beyondLimitSamples += length - kept;
      length = kept;
    }
    // In steps of at most a window, so each step fits the buffers after at most one flush.
    for (let offset = 0; offset < length; offset += this.windowSamples) {
      const end = Math.min(length, offset + this.windowSamples);
      this.place(channel, mulaw, offset, end, start + offset);
    }
  }

  /** Hands out everything still held, up to the latest sample placed. */
  finish(): void {
    this.flushTo(this.end);
  }

  /** Samples handed out or held so far: the recording's length. */
  get samples(): number {
    return this.end;
  }

  /** Places `mulaw[from, to)` from the call's sample `start` on. */
  private place(
    channel: RecordedChannel,
    mulaw: Uint8Array,
    from: number,
    to: number,
    start: number,
  ): void {
    const end = start + (to - from);
    if (end > this.base + this.capacity) {
      // As much as the window allows, but not past the caller unless that is the only room.
      const caller = this.callerNext < 0 ? Infinity : this.callerNext;
      this.flushTo(Math.max(end - this.capacity, Math.min(end - this.windowSamples, caller)));
    }
    let skip = 0;
    if (start < this.base) {
      skip = Math.min(to - from, this.base - start);
      this.lateSamples += skip;
    }
    if (from + skip >= to) return;
    const target = channel === 'caller' ? this.left : this.right;
    decodeMulawRange(mulaw, from + skip, to, target, start + skip - this.base);
    if (end > this.end) this.end = end;
  }

  /** Hands out every sample before `until` (silence where nothing was placed). */
  private flushTo(until: number): void {
    while (this.base < until) {
      const count = Math.min(until - this.base, this.capacity);
      this.out(this.interleave(count));
      this.left.copyWithin(0, count);
      this.right.copyWithin(0, count);
      this.left.fill(0, this.capacity - count);
      this.right.fill(0, this.capacity - count);
      this.base += count;
    }
    if (this.end < this.base) this.end = this.base;
  }

  private interleave(count: number): Buffer {
    const pcm = Buffer.alloc(count * WAV_FRAME_BYTES);
    if (LITTLE_ENDIAN) {
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, count * 2);
      for (let i = 0, j = 0; i < count; i++, j += 2) {
        samples[j] = this.left[i];
        samples[j + 1] = this.right[i];
      }
    } else {
      for (let i = 0; i < count; i++) {
        pcm.writeInt16LE(this.left[i], i * WAV_FRAME_BYTES);
        pcm.writeInt16LE(this.right[i], i * WAV_FRAME_BYTES + 2);
      }
    }
    return pcm;
  }
}
