import { FRAME_BYTES, TAG_BYTES } from './protocol.js';

/**
 * The caller's test audio: a 1 kHz tone whose amplitude steps through LEVELS, one level per
 * frame (frame k has level k % LEVELS.length).
 *
 * In pcm16 mode the service decodes and resamples each frame, so no byte tag survives; inbound
 * frames are then matched by their order on the connection. The level is what lets the fake
 * check that order: it measures the level of each 960-byte append and compares it with the
 * level its position predicts, so a dropped, duplicated or misrouted frame shows up as level
 * mismatches instead of silently shifting every latency by 20 ms. The levels are a factor 1.6
 * apart, so the check tolerates gain errors of about +-25% and the resampler's ~1 ms of delay
 * (only the second half of each append is measured).
 *
 * The codec is our own few lines (protocols.md section 8) rather than src/audio's, so the bench
 * does not measure the service with the service's own ruler.
 */
export const LEVELS = [1000, 1600, 2560, 4096, 6554, 10486, 16777, 26844] as const;
const TONE_SAMPLES_PER_CYCLE = 8; // 1 kHz at 8 kHz: 20 whole cycles per frame, so frames join smoothly

export function linearToMulaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(sign ? -sample : sample, 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; exponent > 0 && !(magnitude & mask); mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

function toneFrame(amplitude: number): Buffer {
  const frame = Buffer.alloc(FRAME_BYTES);
  for (let n = 0; n < FRAME_BYTES; n++) {
    // A quarter-step phase offset keeps samples off the zero crossings.
    const phase = (2 * Math.PI * (n + 0.25)) / TONE_SAMPLES_PER_CYCLE;
    frame[n] = linearToMulaw(Math.round(amplitude * Math.sin(phase)));
  }
  return frame;
}

/** Precomputed base64 payloads, so a frame costs a string concatenation, not an encode. */
export interface CallerPayloads {
  /** Whole tone frame per level (pcm16 mode: sent as is). */
  full: string[];
  /** The frame after its first TAG_BYTES bytes, per level (g711_ulaw mode: tag + tail). */
  tail: string[];
}

export function callerPayloads(): CallerPayloads {
  const frames = LEVELS.map(toneFrame);
  return {
    full: frames.map((frame) => frame.toString('base64')),
    tail: frames.map((frame) => frame.toString('base64', TAG_BYTES)),
  };
}

export function levelOfFrame(frame: number): number {
  return frame % LEVELS.length;
}

/** Base64 of the fake's echo after its tag: mu-law silence (0xFF decodes to 0). */
export function silenceTailBase64(): string {
  return Buffer.alloc(FRAME_BYTES - TAG_BYTES, 0xff).toString('base64');
}

// Mean |x| of a sine of amplitude A over whole cycles is 2A/pi. Decisions are made in the log
// domain, halfway between neighbouring levels.
const LOG_MEANS = LEVELS.map((amplitude) => Math.log((2 * amplitude) / Math.PI));

/**
 * The level index of a 24 kHz PCM16 LE append, from the mean |sample| of its second half (past
 * the resampler's delay, where only this frame's tone remains). -1 when it is no level at all.
 */
export function classifyPcm16Level(pcm: Buffer, byteLength: number): number {
  const samples = byteLength >> 1;
  const from = samples >> 1;
  if (samples - from < 24) return -1;
  let sum = 0;
  for (let i = from; i < samples; i++) sum += Math.abs(pcm.readInt16LE(2 * i));
  const mean = sum / (samples - from);
  if (mean <= 0) return -1;
  const logMean = Math.log(mean);
  let best = -1;
  let bestDistance = Infinity;
  for (let level = 0; level < LOG_MEANS.length; level++) {
    const distance = Math.abs(LOG_MEANS[level] - logMean);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = level;
    }
  }
  // Further than half a step from the nearest level: not our tone.
  const halfStep = Math.log(1.6) / 2;
  return bestDistance <= halfStep ? best : -1;
}
