import { encodeMulawInto } from '../audio/mulaw.js';

/** Twilio's media frame: 20 ms of 8 kHz mu-law. */
export const FRAME_MS = 20;
const SAMPLES_PER_MS = 8;

/**
 * A voice-like sound for `ms` milliseconds at 8 kHz: a 220 Hz tone whose loudness rises and falls
 * four times a second, like syllables. Loud enough for any voice activity detector; the fake
 * model does not listen to it (a script says what the caller said).
 */
export function voiceLikePcm8k(ms: number): Int16Array {
  const samples = new Int16Array(ms * SAMPLES_PER_MS);
  for (let i = 0; i < samples.length; i++) {
    const t = i / 8000;
    const syllable = 0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t);
    samples[i] = Math.round(8000 * syllable * Math.sin(2 * Math.PI * 220 * t));
  }
  return samples;
}

/** The caller's voice as Twilio sends it: mu-law, cut into 20 ms frames of 160 bytes. */
export function callerFrames(ms: number): Buffer[] {
  const pcm = voiceLikePcm8k(ms);
  const mulaw = Buffer.alloc(pcm.length);
  encodeMulawInto(pcm, mulaw);
  const frames: Buffer[] = [];
  const bytes = FRAME_MS * SAMPLES_PER_MS;
  for (let offset = 0; offset + bytes <= mulaw.length; offset += bytes) {
    frames.push(mulaw.subarray(offset, offset + bytes));
  }
  return frames;
}

/**
 * The model's voice for `ms` milliseconds in the session's output format: `audio/pcmu` (8 kHz
 * mu-law) or `audio/pcm` (24 kHz PCM16 little-endian), as `response.output_audio.delta` carries it.
 */
export function modelAudio(ms: number, format: 'audio/pcmu' | 'audio/pcm'): Buffer {
  const pcm8k = voiceLikePcm8k(ms);
  if (format === 'audio/pcmu') {
    const out = Buffer.alloc(pcm8k.length);
    encodeMulawInto(pcm8k, out);
    return out;
  }
  // Each 8 kHz sample held for three 24 kHz samples: crude, but the bridge only plays it.
  const out = Buffer.alloc(pcm8k.length * 3 * 2);
  for (let i = 0; i < pcm8k.length; i++) {
    for (let k = 0; k < 3; k++) out.writeInt16LE(pcm8k[i], (i * 3 + k) * 2);
  }
  return out;
}
