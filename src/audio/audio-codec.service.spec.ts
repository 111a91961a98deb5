import { Test } from '@nestjs/testing';
import { AudioCodecService } from './audio-codec.service.js';
import { AudioModule } from './audio.module.js';
import { decodeMulawInto, encodeMulawInto, MULAW_SILENCE } from './mulaw.js';
import { Upsampler8kTo24k } from './resampler.js';
import { fromPcm16le, sine, whiteNoise } from './testing/signal.js';

describe('AudioCodecService', () => {
  let codec: AudioCodecService;
  // 100 ms of a tone and of noise, as Twilio would send them.
  let toneMulaw: Buffer;
  let noiseMulaw: Buffer;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AudioModule] }).compile();
    codec = moduleRef.get(AudioCodecService);
    toneMulaw = encode(sine(440, 8000, 800, 8000));
    noiseMulaw = encode(whiteNoise(800, 8000, 1));
  });

  describe('inbound converter', () => {
    it('turns 160 mu-law bytes into 960 bytes of PCM16', () => {
      const output = codec.createInboundConverter().convert(toneMulaw.subarray(0, 160));

      expect(output).toHaveLength(960);
    });

    it('outputs the decoded and upsampled samples in little-endian byte order', () => {
      const expected = new Upsampler8kTo24k().process(decode(toneMulaw));

      const output = codec.createInboundConverter().convert(toneMulaw);

      expect(fromPcm16le(output)).toEqual(Array.from(expected));
    });

    it('turns mu-law silence into zero samples', () => {
      const output = codec.createInboundConverter().convert(Buffer.alloc(160, MULAW_SILENCE));

      expect(output.equals(Buffer.alloc(960))).toBe(true);
    });

    it('returns a view of memory that the next call reuses', () => {
      const converter = codec.createInboundConverter();

      const first = converter.convert(toneMulaw.subarray(0, 160));
      const second = converter.convert(toneMulaw.subarray(160, 320));

      expect(second.buffer).toBe(first.buffer);
      expect(second.byteOffset).toBe(first.byteOffset);
    });

    it('keeps each converter independent when two calls interleave', () => {
      const single = codec.createInboundConverter();
      const alone = frames(noiseMulaw, 160).map((frame) => copyOf(single.convert(frame)));
      const [a, b] = [codec.createInboundConverter(), codec.createInboundConverter()];

      const interleaved = frames(noiseMulaw, 160).map((frame, i) => {
        const fromA = copyOf(a.convert(frame));
        b.convert(toneMulaw.subarray(160 * i, 160 * (i + 1)));
        return fromA;
      });

      expect(interleaved).toEqual(alone);
    });

    it('gives the same result through base64 as through Buffers', () => {
      const viaBuffer = codec.createInboundConverter().convert(noiseMulaw);

      const viaBase64 = codec.createInboundConverter().convertBase64(noiseMulaw.toString('base64'));

      expect(viaBase64).toBe(viaBuffer.toString('base64'));
    });
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

function encode(samples: Int16Array): Buffer {
  const mulaw = Buffer.alloc(samples.length);
  encodeMulawInto(samples, mulaw);
  return mulaw;
}

function decode(mulaw: Uint8Array): Int16Array {
  const samples = new Int16Array(mulaw.length);
  decodeMulawInto(mulaw, samples);
  return samples;
}
