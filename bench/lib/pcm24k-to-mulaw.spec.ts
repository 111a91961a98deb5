import fc from 'fast-check';
import { MULAW_SILENCE } from '../../src/audio/mulaw.js';
import { toPcm16le, whiteNoise } from '../../src/audio/testing/signal.js';
import { Pcm24kToMulawConverter } from './pcm24k-to-mulaw.js';

// 100 ms of noise at 24 kHz, as the Realtime API would send it.
const noisePcm = toPcm16le(whiteNoise(2400, 8000, 2));
// Chunks as they might arrive: any lengths up to 4000 bytes, odd ones and empty ones included.
const byteChunks = fc.array(fc.uint8Array({ maxLength: 4000, size: 'max' }), { maxLength: 4 });
// Valid base64, base64 with junk mixed in, and arbitrary UTF-16.
const payloads = fc.oneof(
  fc.base64String({ maxLength: 400, size: 'max' }),
  fc.stringMatching(/^[A-Za-z0-9+/=\s!@#$%^&*.-]{0,400}$/, { size: 'max' }),
  fc.string({ unit: 'binary', maxLength: 400, size: 'max' }),
);

describe('Pcm24kToMulawConverter', () => {
  it('turns 960 bytes of PCM16 into 160 mu-law bytes', () => {
    const output = new Pcm24kToMulawConverter().convert(noisePcm.subarray(0, 960));

    expect(output).toHaveLength(160);
  });

  it('turns zero samples into mu-law silence', () => {
    const output = new Pcm24kToMulawConverter().convert(Buffer.alloc(960));

    expect(output.equals(Buffer.alloc(160, MULAW_SILENCE))).toBe(true);
  });

  it('gives the same result for chunks split mid-sample as for one chunk', () => {
    const whole = copyOf(new Pcm24kToMulawConverter().convert(noisePcm));
    const converter = new Pcm24kToMulawConverter();

    const pieces = frames(noisePcm, 777).map((chunk) => copyOf(converter.convert(chunk)));

    expect(Buffer.concat(pieces)).toEqual(whole);
  });

  it('reads PCM from a Buffer at an odd byte offset', () => {
    const unaligned = Buffer.from(new ArrayBuffer(noisePcm.length + 1), 1);
    noisePcm.copy(unaligned);

    const output = new Pcm24kToMulawConverter().convert(unaligned);

    expect(output).toEqual(new Pcm24kToMulawConverter().convert(noisePcm));
  });

  it('gives the same result through base64 as through Buffers', () => {
    const viaBuffer = new Pcm24kToMulawConverter().convert(noisePcm);

    const viaBase64 = new Pcm24kToMulawConverter().convertBase64(noisePcm.toString('base64'));

    expect(viaBase64).toBe(viaBuffer.toString('base64'));
  });

  it('converts any PCM16 chunks into one mu-law byte per three complete samples so far', () => {
    fc.assert(
      fc.property(byteChunks, (chunks) => {
        const converter = new Pcm24kToMulawConverter();
        let bytesIn = 0;
        let bytesOut = 0;
        return chunks.every((chunk) => {
          bytesIn += chunk.length;
          bytesOut += converter.convert(chunk).length;
          return bytesOut === Math.ceil(Math.floor(bytesIn / 2) / 3);
        });
      }),
    );
  });

  it('gives the same mu-law wherever the PCM16 byte stream is split', () => {
    fc.assert(
      fc.property(byteChunks, (chunks) => {
        const converter = new Pcm24kToMulawConverter();
        const split = Buffer.concat(chunks.map((chunk) => Buffer.from(converter.convert(chunk))));
        const whole = new Pcm24kToMulawConverter().convert(Buffer.concat(chunks));
        return split.equals(whole);
      }),
    );
  });

  it('decodes malformed base64 as Buffer.from would, without throwing, on the way out', () => {
    fc.assert(
      fc.property(payloads, (payload) => {
        const output = new Pcm24kToMulawConverter().convertBase64(payload);
        return decodedLength(output) === Math.ceil(Math.floor(decodedLength(payload) / 2) / 3);
      }),
    );
  });
});

function frames(bytes: Buffer, size: number): Buffer[] {
  return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
    bytes.subarray(size * i, size * (i + 1)),
  );
}

function copyOf(view: Buffer): Buffer {
  return Buffer.from(view);
}

function decodedLength(base64: string): number {
  return Buffer.from(base64, 'base64').length;
}
