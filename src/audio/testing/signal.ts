/**
 * Signal helpers shared by the audio specs and bench:codec: test tones, seeded noise, PCM16 byte
 * conversions, and a single-frequency amplitude measurement.
 */

/** Deterministic uniform generator in [0, 1) (mulberry32), so failures and bench inputs repeat. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sine(
  frequencyHz: number,
  sampleRate: number,
  length: number,
  amplitude: number,
): Int16Array {
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  return Int16Array.from({ length }, (_, n) => Math.round(amplitude * Math.sin(step * n)));
}

export function whiteNoise(length: number, amplitude: number, seed: number): Int16Array {
  const random = seededRandom(seed);
  return Int16Array.from({ length }, () => Math.round(amplitude * (2 * random() - 1)));
}

/** Samples as PCM16 little-endian bytes, one at a time (simple rather than fast). */
export function toPcm16le(samples: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i], 2 * i);
  return bytes;
}

/** PCM16 little-endian bytes as samples, one at a time (simple rather than fast). */
export function fromPcm16le(bytes: Buffer): number[] {
  return Array.from({ length: bytes.length >> 1 }, (_, i) => bytes.readInt16LE(2 * i));
}

/**
 * Amplitude of the sinusoid at `frequencyHz` in `samples[from..]`: one DFT bin under a Hann
 * window, whose fast-falling sidelobes keep a strong tone elsewhere from leaking into a weak one
 * (an image or an alias 40+ dB down) being measured.
 */
export function toneAmplitude(
  samples: ArrayLike<number>,
  frequencyHz: number,
  sampleRate: number,
  from = 0,
): number {
  const length = samples.length - from;
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  let re = 0;
  let im = 0;
  let windowSum = 0;
  for (let n = 0; n < length; n++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length);
    const v = w * samples[from + n];
    re += v * Math.cos(step * n);
    im -= v * Math.sin(step * n);
    windowSum += w;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

export function decibels(amplitudeRatio: number): number {
  return 20 * Math.log10(amplitudeRatio);
}
