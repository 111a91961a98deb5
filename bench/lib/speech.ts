import { seededRandom } from '../../src/audio/testing/signal.js';

/**
 * A speech-like test signal, so bench:codec measures the codec on audio shaped like a call's
 * rather than on silence or a pure tone: glottal pulses at 90-250 Hz with falling intonation,
 * three formant resonators gliding between vowels, fricative noise onsets (up to 5 kHz when the
 * sample rate allows), a syllable-rate envelope, pauses between phrases, and a faint noise floor.
 */

// F1-F3 of some English vowels (Peterson & Barney averages), Hz.
const VOWELS = [
  [730, 1090, 2440],
  [270, 2290, 3010],
  [300, 870, 2240],
  [530, 1840, 2480],
  [570, 840, 2410],
  [660, 1720, 2410],
  [440, 1020, 2240],
];
const FORMANT_BANDWIDTHS = [80, 100, 160];
// Resonator coefficients are recomputed every this many samples while formants glide.
const CONTROL_INTERVAL = 32;

interface Syllable {
  start: number;
  duration: number;
  pitchStart: number;
  pitchEnd: number;
  formants: number[];
  loudness: number;
  fricative: number;
}

/** In seconds, so that every sample rate renders the same utterances. */
function planSyllables(seconds: number, random: () => number): Syllable[] {
  const syllables: Syllable[] = [];
  let time = 0.2;
  while (time < seconds - 2) {
    const base = 90 + 160 * random();
    const count = 3 + Math.floor(6 * random());
    for (let i = 0; i < count; i++) {
      const duration = 0.12 + 0.2 * random();
      // Pitch falls across the phrase (declination) with a rise or fall on each syllable.
      const pitch = base * (1.15 - (0.3 * i) / count);
      syllables.push({
        start: time,
        duration,
        pitchStart: pitch,
        pitchEnd: pitch * (0.85 + 0.3 * random()),
        formants: VOWELS[Math.floor(random() * VOWELS.length)],
        loudness: 0.4 + 0.6 * random(),
        fricative: random() < 0.35 ? 0.04 + 0.08 * random() : 0,
      });
      time += duration + 0.02 * random();
    }
    time += 0.2 + 0.6 * random();
  }
  return syllables;
}

class Resonator {
  private a1 = 0;
  private a2 = 0;
  private gain = 0;
  private y1 = 0;
  private y2 = 0;

  constructor(private readonly sampleRate: number) {}

  /** Klatt's normalisation (unity gain at DC) when `unityAtDc`, else unity-ish peak gain. */
  tune(frequency: number, bandwidth: number, unityAtDc: boolean): void {
    const r = Math.exp((-Math.PI * bandwidth) / this.sampleRate);
    this.a1 = 2 * r * Math.cos((2 * Math.PI * frequency) / this.sampleRate);
    this.a2 = -r * r;
    this.gain = unityAtDc ? 1 - this.a1 - this.a2 : 1 - r;
  }

  step(x: number): number {
    const y = this.gain * x + this.a1 * this.y1 + this.a2 * this.y2;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }
}

/** Rosenberg glottal flow over one period (phase 0..1): opening, closing, closed. */
function glottalFlow(phase: number): number {
  if (phase < 0.4) return 0.5 - 0.5 * Math.cos((Math.PI * phase) / 0.4);
  if (phase < 0.56) return Math.cos((Math.PI * (phase - 0.4)) / 0.32);
  return 0;
}

export function speechLike(sampleRate: number, seconds: number, seed = 1): Int16Array {
  const syllables = planSyllables(seconds, seededRandom(seed));
  const noise = seededRandom(seed + 1);
  const signal = new Float64Array(Math.round(seconds * sampleRate));
  const tract = FORMANT_BANDWIDTHS.map(() => new Resonator(sampleRate));
  const frication = new Resonator(sampleRate);
  frication.tune(Math.min(5000, 0.45 * sampleRate), 2000, false);
  let previousFormants = VOWELS[0];
  let phase = 0;
  let previousFlow = 0;

  for (const s of syllables) {
    const first = Math.round(s.start * sampleRate);
    const length = Math.round(s.duration * sampleRate);
    const fricativeLength = Math.round(s.fricative * sampleRate);
    for (let i = 0; i < length && first + i < signal.length; i++) {
      const t = i / length;
      if (i % CONTROL_INTERVAL === 0) {
        // Formants glide from the previous vowel over the first 30% of the syllable.
        const glide = Math.min(1, t / 0.3);
        tract.forEach((resonator, k) => {
          const f = previousFormants[k] + glide * (s.formants[k] - previousFormants[k]);
          resonator.tune(f, FORMANT_BANDWIDTHS[k], true);
        });
      }
      const pitch = (s.pitchStart + t * (s.pitchEnd - s.pitchStart)) * (1 + 0.01 * noise());
      phase = (phase + pitch / sampleRate) % 1;
      const flow = glottalFlow(phase);
      // The flow's derivative stands in for radiation at the lips (+6 dB/octave).
      let voiced = (flow - previousFlow) * sampleRate * 0.01;
      previousFlow = flow;
      for (const resonator of tract) voiced = resonator.step(voiced);
      const voicing = i < fricativeLength ? 0.2 : 1;
      const hiss = i < fricativeLength ? frication.step(2 * noise() - 1) : 0;
      signal[first + i] = s.loudness * Math.sin(Math.PI * t) ** 0.6 * (voicing * voiced + hiss);
    }
    previousFormants = s.formants;
  }

  let peak = 0;
  for (const v of signal) peak = Math.max(peak, Math.abs(v));
  // Peak at -3 dBFS, over a noise floor near -60 dBFS.
  const scale = (0.7 * 32767) / peak;
  return Int16Array.from(signal, (v) => Math.round(v * scale + 30 * (2 * noise() - 1)));
}
