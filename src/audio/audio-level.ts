import { mulawToLinear } from './mulaw.js';

/**
 * Loudness of G.711 mu-law audio for meters: RMS in dBFS over whatever window the caller sums.
 * A meter needs energy, not samples, so each byte maps straight to its squared, full-scale
 * normalised amplitude (one table lookup and one add per sample, no decode buffer).
 */

/** The floor a meter shows for silence (and for no audio at all). */
export const SILENCE_DBFS = -90;

const SQUARED = Float64Array.from({ length: 256 }, (_, code) => (mulawToLinear(code) / 32768) ** 2);

/** Sum of the squared, normalised amplitudes of the first `length` bytes of `mulaw`. */
export function mulawEnergy(mulaw: Uint8Array, length = mulaw.length): number {
  let sum = 0;
  const n = Math.min(length, mulaw.length);
  for (let i = 0; i < n; i++) sum += SQUARED[mulaw[i]];
  return sum;
}

/** RMS level in dBFS of `samples` samples whose squared amplitudes sum to `energy`. */
export function energyToDbfs(energy: number, samples: number): number {
  if (samples <= 0 || energy <= 0) return SILENCE_DBFS;
  const db = 10 * Math.log10(energy / samples);
  return Math.max(SILENCE_DBFS, Math.round(db * 10) / 10);
}
