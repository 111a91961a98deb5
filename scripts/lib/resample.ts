/**
 * Sample-rate conversion between any two integer rates, by Kaiser-windowed sinc interpolation
 * (band-limited interpolation, as in J. O. Smith's "resample"). This converts a file once before
 * a call, not frames on the hot path, so it favours quality over speed: 64 zero crossings of the
 * lower rate's sinc, a Kaiser window for ~80 dB of stopband, and per-phase unit DC gain.
 * The bridge's own 8k <-> 24k filters (src/audio/resampler.ts) handle only the ratio 3.
 */

/** Half the filter length, in periods of the lower of the two rates. */
const HALF_ZEROS = 32;
/** Cutoff as a fraction of the lower rate's Nyquist frequency: the transition band ends there. */
const ROLLOFF = 0.92;
/** Kaiser beta for about 80 dB of stopband attenuation (0.1102 * (80 - 8.7)). */
const KAISER_BETA = 7.857;
/** Cache every phase's coefficients when there are at most this many phases (44.1k -> 8k: 80). */
const MAX_CACHED_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series), for the window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const quarterSquare = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

const I0_BETA = besselI0(KAISER_BETA);

function kaiser(u: number): number {
  return u <= -1 || u >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - u * u)) / I0_BETA;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

export interface ResamplerPlan {
  fromRate: number;
  toRate: number;
  /** Output samples per `down` input samples, in lowest terms. */
  up: number;
  down: number;
  /** Taps either side of the interpolation point, in input samples. */
  reach: number;
  /** Cutoff in cycles per input sample. */
  cutoff: number;
  /** Half the window length, in input samples. */
  halfWidth: number;
}

export function planResampler(fromRate: number, toRate: number): ResamplerPlan {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new RangeError(`sample rates must be positive integers, got ${fromRate} -> ${toRate}`);
  }
  const divisor = gcd(fromRate, toRate);
  const ratio = Math.min(1, toRate / fromRate); // < 1 when decimating: the filter must widen
  const halfWidth = HALF_ZEROS / ratio;
  return {
    fromRate,
    toRate,
    up: toRate / divisor,
    down: fromRate / divisor,
    reach: Math.ceil(halfWidth),
    cutoff: 0.5 * ratio * ROLLOFF,
    halfWidth,
  };
}

/**
 * The taps for an output that falls `phase / up` of the way from input sample `base` to
 * `base + 1`: coefficient j applies to input `base - reach + 1 + j`. Normalised to sum to 1 so
 * that every phase has exactly unit gain at DC (no phase-dependent level ripple).
 */
function phaseCoefficients(plan: ResamplerPlan, phase: number): Float64Array {
  const fraction = phase / plan.up;
  const taps = new Float64Array(2 * plan.reach);
  let sum = 0;
  for (let j = 0; j < taps.length; j++) {
    const distance = j - plan.reach + 1 - fraction; // input index minus interpolation point
    const value =
      2 * plan.cutoff * sinc(2 * plan.cutoff * distance) * kaiser(distance / plan.halfWidth);
    taps[j] = value;
    sum += value;
  }
  for (let j = 0; j < taps.length; j++) taps[j] /= sum;
  return taps;
}

/** Resamples a whole signal; samples beyond either end are taken as silence. */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return Float32Array.from(input);
  const plan = planResampler(fromRate, toRate);
  const outputLength = Math.ceil((input.length * plan.up) / plan.down);
  const output = new Float32Array(outputLength);
  const cache = plan.up <= MAX_CACHED_PHASES ? new Array<Float64Array>(plan.up) : undefined;
  for (let n = 0; n < outputLength; n++) {
    // Output n sits at input position n * down / up, kept exact in integers.
    const position = n * plan.down;
    const base = Math.floor(position / plan.up);
    const phase = position - base * plan.up;
    let taps = cache?.[phase];
    if (!taps) {
      taps = phaseCoefficients(plan, phase);
      if (cache) cache[phase] = taps;
    }
    const first = base - plan.reach + 1;
    const from = Math.max(0, -first);
    const to = Math.min(taps.length, input.length - first);
    let acc = 0;
    for (let j = from; j < to; j++) acc += taps[j] * input[first + j];
    output[n] = acc;
  }
  return output;
}
