import { decodeMulawInto, encodeMulawInto } from '../../../src/audio/mulaw.js';
import { Downsampler24kTo8k, Upsampler8kTo24k } from '../../../src/audio/resampler.js';

/** The demo model's audio formats (GA names); it works at 8 kHz internally. */
export type DemoAudioFormat = 'audio/pcmu' | 'audio/pcm';

/** Input audio in the session's format -> 8 kHz PCM16 (one converter per session: filter state). */
export class InputDecoder {
  private readonly down = new Downsampler24kTo8k();

  constructor(readonly format: DemoAudioFormat) {}

  decode(bytes: Buffer): Int16Array {
    if (this.format === 'audio/pcmu') {
      const pcm = new Int16Array(bytes.length);
      decodeMulawInto(bytes, pcm);
      return pcm;
    }
    const samples = new Int16Array(bytes.length >> 1);
    for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
    return this.down.process(samples);
  }
}

/** 8 kHz PCM16 -> the session's output format. */
export function encodeOutput(pcm8k: Int16Array, format: DemoAudioFormat): Buffer {
  if (format === 'audio/pcmu') {
    const out = Buffer.alloc(pcm8k.length);
    encodeMulawInto(pcm8k, out);
    return out;
  }
  const up = new Upsampler8kTo24k().process(pcm8k);
  const out = Buffer.alloc(up.length * 2);
  for (let i = 0; i < up.length; i++) out.writeInt16LE(up[i], i * 2);
  return out;
}

/** Bytes per millisecond of output audio in a format. */
export function bytesPerMs(format: DemoAudioFormat): number {
  return format === 'audio/pcmu' ? 8 : 48;
}

export interface VadSettings {
  /** 0..1 as in GA `server_vad` (0.5 by default); higher needs louder speech. */
  threshold: number;
  prefixPaddingMs: number;
  silenceDurationMs: number;
}

export type VadEvent =
  | { kind: 'speech_started'; audioStartMs: number }
  | { kind: 'speech_stopped'; audioEndMs: number; utterance: Int16Array };

const WINDOW_SAMPLES = 80; // 10 ms at 8 kHz
/** Speech must last this long to count, so a click does not start a turn. */
const MIN_SPEECH_MS = 60;
/** Longest utterance kept for playback: the rest of a monologue is heard but not repeated. */
export const MAX_UTTERANCE_MS = 15_000;

/**
 * Server VAD the way the GA API describes it, on energy: speech starts once the level stays above
 * the threshold for MIN_SPEECH_MS (reported `prefixPaddingMs` early), and stops after
 * `silenceDurationMs` below it. Times are ms of input audio since the session began.
 */
export class VoiceActivityDetector {
  private receivedSamples = 0;
  private window = new Int16Array(WINDOW_SAMPLES);
  private windowFill = 0;
  private loudRunMs = 0;
  private quietRunMs = 0;
  private speaking = false;
  private utterance: Int16Array[] = [];
  private utteranceSamples = 0;
  /** Recent audio, so the utterance includes its prefix padding. */
  private history: Int16Array[] = [];

  constructor(private readonly settings: () => VadSettings) {}

  /** Feeds 8 kHz audio, returning the events it caused in order. */
  push(samples: Int16Array): VadEvent[] {
    const events: VadEvent[] = [];
    for (let i = 0; i < samples.length; i++) {
      this.window[this.windowFill++] = samples[i];
      this.receivedSamples++;
      if (this.windowFill === WINDOW_SAMPLES) {
        const event = this.onWindow(this.window.slice());
        if (event) events.push(event);
        this.windowFill = 0;
      }
    }
    return events;
  }

  get isSpeaking(): boolean {
    return this.speaking;
  }

  private onWindow(window: Int16Array): VadEvent | undefined {
    const { threshold, prefixPaddingMs, silenceDurationMs } = this.settings();
    // threshold 0.5 -> RMS 500 (about -36 dBFS): well above line noise, below any speech.
    const loud = rms(window) > 1000 * threshold;
    const nowMs = this.receivedSamples / 8;
    this.remember(window, prefixPaddingMs + MIN_SPEECH_MS);
    if (!this.speaking) {
      this.loudRunMs = loud ? this.loudRunMs + 10 : 0;
      if (this.loudRunMs < MIN_SPEECH_MS) return undefined;
      this.speaking = true;
      this.quietRunMs = 0;
      this.utterance = [...this.history];
      this.utteranceSamples = this.utterance.reduce((n, w) => n + w.length, 0);
      const startedMs = nowMs - this.loudRunMs;
      return { kind: 'speech_started', audioStartMs: Math.max(0, startedMs - prefixPaddingMs) };
    }
    if (this.utteranceSamples < MAX_UTTERANCE_MS * 8) {
      this.utterance.push(window);
      this.utteranceSamples += window.length;
    }
    this.quietRunMs = loud ? 0 : this.quietRunMs + 10;
    if (this.quietRunMs < silenceDurationMs) return undefined;
    this.speaking = false;
    this.loudRunMs = 0;
    // The utterance ends where the silence began; the trailing quiet is not played back.
    const keep = Math.max(0, this.utterance.length - silenceDurationMs / 10);
    const utterance = concat(this.utterance.slice(0, keep));
    this.utterance = [];
    this.history = [];
    return { kind: 'speech_stopped', audioEndMs: nowMs - this.quietRunMs, utterance };
  }

  private remember(window: Int16Array, ms: number): void {
    this.history.push(window);
    while (this.history.length > ms / 10) this.history.shift();
  }
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / samples.length);
}

export function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const NOTE_MS = 110;
const GAP_MS = 40;

/**
 * The demo model's "voice": one soft tone per word of what it says (pitch from the word), so a
 * reply is audible and as long as its sentence, without a speech synthesiser.
 */
export function speakAsTones(text: string): Int16Array {
  const words = text.split(/\s+/).filter(Boolean);
  const parts: Int16Array[] = [];
  for (const word of words) {
    let hash = 0;
    for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) % 997;
    parts.push(tone(440 + (hash % 12) * 40, NOTE_MS), new Int16Array((GAP_MS * 8000) / 1000));
  }
  return concat(parts);
}

export function tone(frequencyHz: number, durationMs: number, amplitude = 6000): Int16Array {
  const samples = new Int16Array((durationMs * 8000) / 1000);
  const fade = Math.min(80, samples.length / 4); // 10 ms in and out: no clicks
  for (let i = 0; i < samples.length; i++) {
    const envelope = Math.min(1, i / fade, (samples.length - 1 - i) / fade);
    samples[i] = Math.round(
      amplitude * envelope * Math.sin((2 * Math.PI * frequencyHz * i) / 8000),
    );
  }
  return samples;
}
