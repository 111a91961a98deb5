import { Downsampler24kTo8k, Upsampler8kTo24k } from './resampler.js';
import { decibels, sine, toneAmplitude, whiteNoise } from './testing/signal.js';

const AMPLITUDE = 10000;
// Outputs skipped before measuring, so the filter has filled with signal.
const SETTLE_8K = 160;
const SETTLE_24K = 3 * SETTLE_8K;

function chunked(signal: Int16Array, sizes: number[]): Int16Array[] {
  const chunks: Int16Array[] = [];
  for (let start = 0, i = 0; start < signal.length; i++) {
    const size = sizes[i % sizes.length];
    chunks.push(signal.subarray(start, start + size));
    start += size;
  }
  return chunks;
}

function concat(parts: Int16Array[]): Int16Array {
  const whole = new Int16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}

function fullScaleSquare(length: number, halfPeriod: number): Int16Array {
  return Int16Array.from({ length }, (_, n) => (Math.floor(n / halfPeriod) % 2 ? -32768 : 32767));
}

function largestStep(samples: Int16Array): number {
  let largest = 0;
  for (let n = 1; n < samples.length; n++) {
    largest = Math.max(largest, Math.abs(samples[n] - samples[n - 1]));
  }
  return largest;
}

describe('Upsampler8kTo24k', () => {
  it('produces exactly three output samples per input sample', () => {
    const upsampler = new Upsampler8kTo24k();

    const lengths = [0, 1, 160, 1999].map((n) => upsampler.process(new Int16Array(n)).length);

    expect(lengths).toEqual([0, 3, 480, 5997]);
  });

  it('keeps a 440 Hz tone at 440 Hz', () => {
    const output = new Upsampler8kTo24k().process(sine(440, 8000, 8000, AMPLITUDE));

    let crossings = 0;
    for (let n = SETTLE_24K + 1; n < output.length; n++) {
      if (output[n - 1] < 0 !== output[n] < 0) crossings++;
    }
    const seconds = (output.length - SETTLE_24K) / 24000;

    expect(Math.abs(crossings / 2 / seconds - 440)).toBeLessThan(2);
  });

  it('passes a 3.5 kHz tone within 1 dB', () => {
    const output = new Upsampler8kTo24k().process(sine(3500, 8000, 4000, AMPLITUDE));

    const gain = decibels(toneAmplitude(output, 3500, 24000, SETTLE_24K) / AMPLITUDE);

    expect(Math.abs(gain)).toBeLessThan(1);
  });

  it('rejects the 7 kHz and 9 kHz images of a 1 kHz tone by at least 40 dB', () => {
    const output = new Upsampler8kTo24k().process(sine(1000, 8000, 4000, AMPLITUDE));

    const images = [7000, 9000].map((f) =>
      decibels(toneAmplitude(output, f, 24000, SETTLE_24K) / AMPLITUDE),
    );

    expect(Math.max(...images)).toBeLessThan(-40);
  });

  it('gives the same output in 20 ms chunks as in one go', () => {
    const signal = whiteNoise(8000, AMPLITUDE, 1);
    const chunkedUpsampler = new Upsampler8kTo24k();

    const pieces = chunked(signal, [160]).map((chunk) => chunkedUpsampler.process(chunk));

    expect(concat(pieces)).toEqual(new Upsampler8kTo24k().process(signal));
  });

  it('forgets its history on reset', () => {
    const upsampler = new Upsampler8kTo24k();
    upsampler.process(whiteNoise(160, AMPLITUDE, 2));
    const signal = whiteNoise(160, AMPLITUDE, 3);

    upsampler.reset();

    expect(upsampler.process(signal)).toEqual(new Upsampler8kTo24k().process(signal));
  });

  it("clamps a full-scale square wave's overshoot instead of wrapping around", () => {
    const output = new Upsampler8kTo24k().process(fullScaleSquare(800, 40));

    expect(Math.max(...output)).toBe(32767);
    expect(Math.min(...output)).toBe(-32768);
    // Wrapping would jump by nearly 65536 between neighbours.
    expect(largestStep(output)).toBeLessThan(60000);
  });
});

describe('Downsampler24kTo8k', () => {
  it('produces one output per three inputs, carrying the phase across chunk sizes', () => {
    const downsampler = new Downsampler24kTo8k();
    const sizes = [0, 1, 1, 2, 479, 481, 7, 960];

    let inputs = 0;
    let outputs = 0;

    const shortfalls = sizes.map((n) => {
      inputs += n;
      outputs += downsampler.process(new Int16Array(n)).length;
      // Inputs 0, 3, 6, ... are kept, so after T inputs there are ceil(T / 3) outputs.
      return Math.ceil(inputs / 3) - outputs;
    });

    expect(shortfalls).toEqual(sizes.map(() => 0));
  });

  it('passes a 3.4 kHz tone within 1 dB', () => {
    const output = new Downsampler24kTo8k().process(sine(3400, 24000, 12000, AMPLITUDE));

    const gain = decibels(toneAmplitude(output, 3400, 8000, SETTLE_8K) / AMPLITUDE);

    expect(Math.abs(gain)).toBeLessThan(1);
  });

  it.each([4200, 5000, 6000, 9000])(
    'suppresses what a %d Hz tone aliases to by at least 40 dB',
    (frequency) => {
      const alias = Math.abs(frequency - 8000 * Math.round(frequency / 8000));
      const output = new Downsampler24kTo8k().process(sine(frequency, 24000, 12000, AMPLITUDE));

      const level = decibels(toneAmplitude(output, alias, 8000, SETTLE_8K) / AMPLITUDE);

      expect(level).toBeLessThan(-40);
    },
  );

  it('gives the same output in odd-sized chunks as in one go', () => {
    const signal = whiteNoise(24000, AMPLITUDE, 4);
    const chunkedDownsampler = new Downsampler24kTo8k();

    const pieces = chunked(signal, [479, 1, 962, 5, 2]).map((c) => chunkedDownsampler.process(c));

    expect(concat(pieces)).toEqual(new Downsampler24kTo8k().process(signal));
  });

  it('forgets its history and phase on reset', () => {
    const downsampler = new Downsampler24kTo8k();
    downsampler.process(whiteNoise(481, AMPLITUDE, 5));
    const signal = whiteNoise(480, AMPLITUDE, 6);

    downsampler.reset();

    expect(downsampler.process(signal)).toEqual(new Downsampler24kTo8k().process(signal));
  });

  it("clamps a full-scale square wave's overshoot instead of wrapping around", () => {
    const output = new Downsampler24kTo8k().process(fullScaleSquare(2400, 120));

    expect(Math.max(...output)).toBe(32767);
    expect(Math.min(...output)).toBe(-32768);
    expect(largestStep(output)).toBeLessThan(60000);
  });
});
