/**
 * G.711 mu-law, the codec of Twilio Media Streams (protocols.md section 8).
 *
 * The per-sample functions are the reference formulas; the hot path uses tables built from them
 * once at import and writes into caller-provided arrays, so a call's frames allocate nothing.
 */

/** Digital silence: decodes to +0. Fill mu-law buffers with this, not 0x00 (which is -32124). */
export const MULAW_SILENCE = 0xff;
/** 8 kHz, one byte a sample: the bytes in each millisecond of mu-law audio. */
export const MULAW_BYTES_PER_MS = 8;

const BIAS = 0x84;
const CLIP = 32635;

/** Encodes one 16-bit sample (reference formula, ITU-T G.711). */
export function linearToMulaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(sign ? -sample : sample, CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; exponent > 0 && !(magnitude & mask); mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  // All bits are inverted on the wire.
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Decodes one mu-law byte to the midpoint of its quantisation interval (reference formula). */
export function mulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const magnitude = (((u & 0x0f) << 3) + BIAS) << ((u >> 4) & 7);
  return u & 0x80 ? BIAS - magnitude : magnitude - BIAS;
}

const DECODE_TABLE = Int16Array.from({ length: 256 }, (_, code) => mulawToLinear(code));

// Indexed by the sample's 16-bit two's-complement pattern. A 16 Ki-entry table indexed by
// magnitude >> 2 is smaller but needs sign handling (negative buckets of s >> 2 straddle segment
// edges) and measured ~15% slower than this 64 KiB one.
const ENCODE_TABLE = new Uint8Array(65536);
for (let sample = -32768; sample < 32768; sample++) {
  ENCODE_TABLE[sample & 0xffff] = linearToMulaw(sample);
}

/** Decodes `src` into the first `src.length` elements of `dst`. */
export function decodeMulawInto(src: Uint8Array, dst: Int16Array): void {
  const n = src.length;
  if (dst.length < n) throw new RangeError(`dst holds ${dst.length} samples, needs ${n}`);
  for (let i = 0; i < n; i++) dst[i] = DECODE_TABLE[src[i]];
}

/**
 * Decodes `src[from, to)` into `dst` starting at `at`, without making views of either (a
 * recording places each frame this way, twice per 20 ms per call).
 */
export function decodeMulawRange(
  src: Uint8Array,
  from: number,
  to: number,
  dst: Int16Array,
  at: number,
): void {
  if (from < 0 || to > src.length || at < 0 || at + (to - from) > dst.length) {
    throw new RangeError(
      `cannot decode [${from}, ${to}) of ${src.length} at ${at} of ${dst.length}`,
    );
  }
  for (let i = from, j = at; i < to; i++, j++) dst[j] = DECODE_TABLE[src[i]];
}

/** Encodes `src` into the first `src.length` bytes of `dst`. */
export function encodeMulawInto(src: Int16Array, dst: Uint8Array): void {
  const n = src.length;
  if (dst.length < n) throw new RangeError(`dst holds ${dst.length} bytes, needs ${n}`);
  for (let i = 0; i < n; i++) dst[i] = ENCODE_TABLE[src[i] & 0xffff];
}
