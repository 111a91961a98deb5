import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMulawInto, mulawToLinear } from '../../src/audio/mulaw.js';
import { resample } from './resample.js';
import { decodeWav, describeFormat, mixToMono, WavError } from './wav.js';

/** Twilio's media format: 8 kHz mono mu-law, one byte per sample, 8 bytes per millisecond. */
export const TWILIO_RATE = 8000;
export const BYTES_PER_MS = TWILIO_RATE / 1000;
/** Twilio sends 20 ms frames. */
export const FRAME_MS = 20;
export const FRAME_BYTES = FRAME_MS * BYTES_PER_MS;
export const MULAW_SILENCE_BYTE = 0xff;

export interface CallerAudio {
  /** 8 kHz mono mu-law, ready to be cut into 160-byte frames. */
  mulaw: Buffer;
  /** What the file was and what was done to it, for the start-up line. */
  description: string;
}

export class CallerAudioError extends Error {
  override name = 'CallerAudioError';
}

/** Float samples in [-1, 1) to 16-bit PCM, clipped (a resampled full-scale file may overshoot). */
export function floatToPcm16(samples: Float32Array): Int16Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768)));
  }
  return pcm;
}

export function pcm16ToMulaw(pcm: Int16Array): Buffer {
  const mulaw = Buffer.alloc(pcm.length);
  encodeMulawInto(pcm, mulaw);
  return mulaw;
}

/** Converts the bytes of a WAV file to what a Twilio call carries: 8 kHz mono mu-law. */
export function wavToCallerAudio(file: Buffer): CallerAudio {
  const wav = decodeWav(file);
  const { format } = wav;
  const source = describeFormat(format);
  const seconds = (wav.channels[0].length / format.sampleRate).toFixed(2);
  // Already phone audio: pass the bytes through untouched rather than decode and re-encode.
  if (format.encoding === 'mulaw' && format.sampleRate === TWILIO_RATE && format.channels === 1) {
    return { mulaw: Buffer.from(wav.data), description: `${seconds} s of ${source}, sent as is` };
  }
  const mono = mixToMono(wav.channels);
  const resampled = resample(mono, format.sampleRate, TWILIO_RATE);
  const steps = [
    format.channels > 1 ? 'mixed to mono' : undefined,
    format.sampleRate !== TWILIO_RATE ? 'resampled to 8 kHz' : undefined,
    'encoded as mu-law',
  ].filter((step): step is string => step !== undefined);
  return {
    mulaw: pcm16ToMulaw(floatToPcm16(resampled)),
    description: `${seconds} s of ${source}, ${steps.join(', ')}`,
  };
}

export function loadCallerAudio(path: string): CallerAudio {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch (error) {
    throw new CallerAudioError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return wavToCallerAudio(file);
  } catch (error) {
    if (error instanceof WavError) throw new CallerAudioError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * The sample shipped with the repository. Found by walking up from this module, since it runs
 * both from scripts/lib (tests) and from dist-tools/scripts/lib (the built CLI).
 */
export function defaultSamplePath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, 'samples', 'caller.wav');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(process.cwd(), 'samples', 'caller.wav');
}

/** Speech above this RMS level counts as the caller talking (about -40 dBFS). */
const VOICE_RMS = 328;

/** Whether a mu-law frame holds speech rather than silence or line noise (a crude energy gate). */
export function isVoiced(mulaw: Uint8Array): boolean {
  if (mulaw.length === 0) return false;
  let energy = 0;
  for (const code of mulaw) {
    const sample = mulawToLinear(code);
    energy += sample * sample;
  }
  return Math.sqrt(energy / mulaw.length) > VOICE_RMS;
}
