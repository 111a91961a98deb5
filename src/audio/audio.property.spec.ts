import fc from 'fast-check';
import { NaiveDownsampler, NaiveUpsampler } from '../../bench/lib/naive-codec.js';
import { AudioCodecService } from './audio-codec.service.js';
import { Downsampler24kTo8k, Upsampler8kTo24k } from './resampler.js';

const codec = new AudioCodecService();

// Chunks as they might arrive: any lengths up to 4000 bytes, odd ones and empty ones included.
const byteChunks = fc.array(fc.uint8Array({ maxLength: 4000, size: 'max' }), { maxLength: 4 });
// Full-scale noise drives the filters into clamping; shorter, as the oracle is slow.
const sampleChunks = fc.array(fc.int16Array({ maxLength: 700, size: 'max' }), { maxLength: 4 });
// Valid base64, base64 with junk mixed in, and arbitrary UTF-16.
const payloads = fc.oneof(
  fc.base64String({ maxLength: 400, size: 'max' }),
  fc.stringMatching(/^[A-Za-z0-9+/=\s!@#$%^&*.-]{0,400}$/, { size: 'max' }),
  fc.string({ unit: 'binary', maxLength: 400, size: 'max' }),
);

function concatSamples(chunks: Int16Array[]): Int16Array {
  return Int16Array.from(chunks.flatMap((chunk) => Array.from(chunk)));
}

function largestDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let largest = actual.length === expected.length ? 0 : Infinity;
  for (let i = 0; i < actual.length; i++) {
    largest = Math.max(largest, Math.abs(actual[i] - expected[i]));
  }
  return largest;
}

function decodedLength(base64: string): number {
  return Buffer.from(base64, 'base64').length;
}

describe('audio codec properties', () => {
  it('converts any mu-law chunks into exactly three PCM16 samples per byte', () => {
    fc.assert(
      fc.property(byteChunks, (chunks) => {
        const converter = codec.createInboundConverter();
        return chunks.every((chunk) => converter.convert(chunk).length === 6 * chunk.length);
      }),
    );
  });

  it('upsamples like a direct-form FIR on the zero-stuffed signal, within 1 LSB', () => {
    fc.assert(
      fc.property(sampleChunks, (chunks) => {
        const upsampler = new Upsampler8kTo24k();
        const ours = concatSamples(chunks.map((chunk) => upsampler.process(chunk)));
        const oracle = new NaiveUpsampler().process(concatSamples(chunks));
        // Only the summation order differs, which can flip a rounding at .5.
        return largestDifference(ours, oracle) <= 1;
      }),
      { numRuns: 50 },
    );
  });

  it('downsamples like filtering every sample and keeping every third, within 1 LSB', () => {
    fc.assert(
      fc.property(sampleChunks, (chunks) => {
        const downsampler = new Downsampler24kTo8k();
        const ours = concatSamples(chunks.map((chunk) => downsampler.process(chunk)));
        const oracle = new NaiveDownsampler().process(concatSamples(chunks));
        return largestDifference(ours, oracle) <= 1;
      }),
      { numRuns: 50 },
    );
  });

  // Payloads are validated before they reach the codec; a malformed one must still not crash a
  // call. Junk characters are skipped, so the output is bounded by the payload's length.
  it('decodes malformed base64 as Buffer.from would, without throwing, on the way in', () => {
    fc.assert(
      fc.property(payloads, (payload) => {
        const output = codec.createInboundConverter().convertBase64(payload);
        return decodedLength(output) === 6 * decodedLength(payload);
      }),
    );
  });
});
