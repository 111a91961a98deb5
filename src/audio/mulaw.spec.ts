import {
  MULAW_SILENCE,
  decodeMulawInto,
  encodeMulawInto,
  linearToMulaw,
  mulawToLinear,
} from './mulaw.js';

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, code) => code);
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

function decodeAll(codes: Uint8Array): Int16Array {
  const samples = new Int16Array(codes.length);
  decodeMulawInto(codes, samples);
  return samples;
}

function encodeAll(samples: Int16Array): Uint8Array {
  const codes = new Uint8Array(samples.length);
  encodeMulawInto(samples, codes);
  return codes;
}

describe('mu-law codec', () => {
  it('pins the reference formulas to known G.711 values, 0x7F being negative zero', () => {
    expect([0x00, 0x7f, 0x80, 0xff].map(mulawToLinear)).toEqual([-32124, 0, 32124, 0]);
    expect([-32768, -1, 0, 1, 32767].map(linearToMulaw)).toEqual([0x00, 0x7f, 0xff, 0xff, 0x80]);
  });

  it('decodes every code exactly as the reference formula', () => {
    expect(Array.from(decodeAll(ALL_CODES))).toEqual(Array.from(ALL_CODES, mulawToLinear));
  });

  it('encodes every 16-bit sample exactly as the reference formula', () => {
    const encoded = encodeAll(ALL_SAMPLES);
    const mismatches = ALL_SAMPLES.filter((s, i) => encoded[i] !== linearToMulaw(s));
    expect(mismatches).toHaveLength(0);
  });

  it('round-trips every 16-bit sample within the G.711 quantisation error', () => {
    const decoded = decodeAll(encodeAll(ALL_SAMPLES));
    const overBound = ALL_SAMPLES.filter((s, i) => {
      const magnitude = Math.abs(s);
      // Segment e covers magnitudes [2^(e+7) - 132, 2^(e+8) - 132) and decodes to interval
      // midpoints, so the error is at most 2^(e+2); beyond the clip level it reaches 644.
      const segment = Math.floor(Math.log2(Math.min(magnitude, 32635) + 132)) - 7;
      const bound = magnitude > 32635 ? 644 : 2 ** (segment + 2);
      return Math.abs(decoded[i] - s) > bound;
    });
    expect(overBound).toHaveLength(0);
  });

  it('encodes zero as the silence byte 0xFF, which decodes back to zero', () => {
    expect(encodeAll(new Int16Array([0]))[0]).toBe(MULAW_SILENCE);
    expect(decodeAll(new Uint8Array([MULAW_SILENCE]))[0]).toBe(0);
  });

  it('rejects a destination shorter than the source instead of truncating', () => {
    expect(() => decodeMulawInto(new Uint8Array(160), new Int16Array(159))).toThrow(RangeError);
    expect(() => encodeMulawInto(new Int16Array(160), new Uint8Array(159))).toThrow(RangeError);
  });
});
