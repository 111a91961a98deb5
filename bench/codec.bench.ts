/**
 * bench:codec (issue 8): the per-call codec paths on a few minutes of speech-like audio in 20 ms
 * frames, state carried across frames as in a call, against a naive per-sample implementation
 * and the alawmulaw package; then the filters' quality, measured by pushing tones through them.
 */
import alawmulaw from 'alawmulaw';
import os from 'node:os';
import { AudioCodecService } from '../src/audio/audio-codec.service.js';
import {
  decodeMulawInto,
  encodeMulawInto,
  linearToMulaw,
  mulawToLinear,
} from '../src/audio/mulaw.js';
import {
  DOWNSAMPLER_PROTOTYPE,
  Downsampler24kTo8k,
  UPSAMPLER_PROTOTYPE,
  Upsampler8kTo24k,
} from '../src/audio/resampler.js';
import {
  decibels,
  fromPcm16le,
  sine,
  toPcm16le,
  toneAmplitude,
} from '../src/audio/testing/signal.js';
import { NaiveDownsampler, NaiveUpsampler } from './lib/naive-codec.js';
import { Pcm24kToMulawConverter } from './lib/pcm24k-to-mulaw.js';
import { speechLike } from './lib/speech.js';

const SECONDS = 180;
const FRAME_8K = 160;
const FRAME_24K = 480;
const TARGET_SPEED = 2500;
const TARGET_RIPPLE_DB = 1;
const TARGET_REJECTION_DB = 40;
// Repetitions per case: enough for ~1.5 s of timing, within these bounds.
const MIN_RUNS = 3;
const MAX_RUNS = 10;

interface Case {
  label: string;
  run: () => void;
}

interface Speed {
  label: string;
  best: number;
  median: number;
}

function frames<T extends Uint8Array | Int16Array>(signal: T, size: number): T[] {
  return Array.from(
    { length: Math.floor(signal.length / size) },
    (_, i) => signal.subarray(size * i, size * (i + 1)) as T,
  );
}

function secondsOf(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Times one pass over the whole input after a warm-up pass; x real time on one core. */
function measure({ label, run }: Case): Speed {
  run();
  const times = [secondsOf(run)];
  const runs = Math.min(MAX_RUNS, Math.max(MIN_RUNS, Math.ceil(1.5 / times[0])));
  while (times.length < runs) times.push(secondsOf(run));
  times.sort((a, b) => a - b);
  return { label, best: SECONDS / times[0], median: SECONDS / times[times.length >> 1] };
}

// --- Input: the same speech-like utterances rendered at both rates ---------------------------

const speech8k = speechLike(8000, SECONDS);
const speech24k = speechLike(24000, SECONDS);
const mulaw = Buffer.alloc(speech8k.length);
encodeMulawInto(speech8k, mulaw);
const mulawFrames = frames(mulaw, FRAME_8K);
const mulawBase64Frames = mulawFrames.map((frame) => frame.toString('base64'));
const pcm8kFrames = frames(speech8k, FRAME_8K);
const pcm24kFrames = frames(speech24k, FRAME_24K);
// Int16Array memory is little-endian on every host this runs on, as on the wire.
const pcmByteFrames = frames(Buffer.from(speech24k.buffer), 2 * FRAME_24K);
const pcmBase64Frames = pcmByteFrames.map((frame) => frame.toString('base64'));
const codec = new AudioCodecService();

// --- Twilio -> OpenAI: mu-law 8 kHz -> PCM16 24 kHz ------------------------------------------

const inbound: Case[] = [
  {
    label: 'ours: decode + upsample (converter)',
    run: () => {
      const converter = codec.createInboundConverter();
      for (const frame of mulawFrames) converter.convert(frame);
    },
  },
  {
    label: 'ours, base64 in and out',
    run: () => {
      const converter = codec.createInboundConverter();
      for (const payload of mulawBase64Frames) converter.convertBase64(payload);
    },
  },
  {
    label: 'naive: formula per sample + direct FIR',
    run: () => {
      const upsampler = new NaiveUpsampler();
      for (const frame of mulawFrames) {
        toPcm16le(upsampler.process(Array.from(frame, mulawToLinear)));
      }
    },
  },
  {
    label: 'alawmulaw decode + naive FIR',
    run: () => {
      const upsampler = new NaiveUpsampler();
      for (const frame of mulawFrames) toPcm16le(upsampler.process(alawmulaw.mulaw.decode(frame)));
    },
  },
  {
    label: 'alawmulaw decode + our upsampler',
    run: () => {
      const upsampler = new Upsampler8kTo24k();
      const output = new Int16Array(3 * FRAME_8K);
      for (const frame of mulawFrames) upsampler.processInto(alawmulaw.mulaw.decode(frame), output);
    },
  },
];

const decodeOnly: Case[] = [
  {
    label: 'ours: table decode',
    run: () => {
      const output = new Int16Array(FRAME_8K);
      for (const frame of mulawFrames) decodeMulawInto(frame, output);
    },
  },
  {
    label: 'naive: formula per sample',
    run: () => {
      for (const frame of mulawFrames) Array.from(frame, mulawToLinear);
    },
  },
  {
    label: 'alawmulaw: mulaw.decode',
    run: () => {
      for (const frame of mulawFrames) alawmulaw.mulaw.decode(frame);
    },
  },
];

// --- OpenAI -> Twilio: PCM16 24 kHz -> mu-law 8 kHz ------------------------------------------

const outbound: Case[] = [
  {
    label: 'ours: downsample + encode (converter)',
    run: () => {
      const converter = new Pcm24kToMulawConverter();
      for (const frame of pcmByteFrames) converter.convert(frame);
    },
  },
  {
    label: 'ours, base64 in and out',
    run: () => {
      const converter = new Pcm24kToMulawConverter();
      for (const payload of pcmBase64Frames) converter.convertBase64(payload);
    },
  },
  {
    label: 'naive: direct FIR + formula per sample',
    run: () => {
      const downsampler = new NaiveDownsampler();
      for (const frame of pcmByteFrames) {
        Buffer.from(downsampler.process(fromPcm16le(frame)).map(linearToMulaw));
      }
    },
  },
  {
    label: 'naive FIR + alawmulaw encode',
    run: () => {
      const downsampler = new NaiveDownsampler();
      for (const frame of pcmByteFrames) {
        alawmulaw.mulaw.encode(Int16Array.from(downsampler.process(fromPcm16le(frame))));
      }
    },
  },
  {
    label: 'our downsampler + alawmulaw encode',
    run: () => {
      const downsampler = new Downsampler24kTo8k();
      const output = new Int16Array(FRAME_8K);
      for (const frame of pcm24kFrames) {
        downsampler.processInto(frame, output);
        alawmulaw.mulaw.encode(output);
      }
    },
  },
];

const encodeOnly: Case[] = [
  {
    label: 'ours: table encode',
    run: () => {
      const output = new Uint8Array(FRAME_8K);
      for (const frame of pcm8kFrames) encodeMulawInto(frame, output);
    },
  },
  {
    label: 'naive: formula per sample',
    run: () => {
      for (const frame of pcm8kFrames) Uint8Array.from(frame, linearToMulaw);
    },
  },
  {
    label: 'alawmulaw: mulaw.encode',
    run: () => {
      for (const frame of pcm8kFrames) alawmulaw.mulaw.encode(frame);
    },
  },
];

// --- Filter quality, measured on the real resamplers -------------------------------------------

const TONE_AMPLITUDE = 10000;
const SETTLE_8K = 160;
const SETTLE_24K = 480;
// 0.1-3.4 kHz in 50 Hz steps: the telephone band to be kept flat.
const PASSBAND = Array.from({ length: 67 }, (_, i) => 100 + 50 * i);
// 4.025-11.975 kHz in 50 Hz steps: everything above the 8 kHz rate's Nyquist, skipping the
// frequencies whose aliases land exactly on DC or on 4 kHz, where one DFT bin cannot measure.
const ABOVE_NYQUIST = Array.from({ length: 160 }, (_, i) => 4025 + 50 * i);

interface Quality {
  rippleDb: number;
  worstRejectionDb: number;
  worstAtHz: number;
}

function spread(values: number[]): number {
  return Math.max(...values) - Math.min(...values);
}

/** Passband gains, and each input tone's images (8k +- f and 16k - f) relative to its gain. */
function upsamplerQuality(): Quality {
  const gains: number[] = [];
  let worst = { db: Infinity, hz: 0 };
  for (const f of PASSBAND) {
    const output = new Upsampler8kTo24k().process(sine(f, 8000, 4000, TONE_AMPLITUDE));
    const gain = toneAmplitude(output, f, 24000, SETTLE_24K);
    gains.push(decibels(gain / TONE_AMPLITUDE));
    for (const image of [8000 - f, 8000 + f, 16000 - f]) {
      const db = decibels(gain / toneAmplitude(output, image, 24000, SETTLE_24K));
      if (db < worst.db) worst = { db, hz: image };
    }
  }
  return { rippleDb: spread(gains), worstRejectionDb: worst.db, worstAtHz: worst.hz };
}

/** Passband gains, and tones above 4 kHz measured where they alias to, relative to the input. */
function downsamplerQuality(): Quality {
  const measure = (f: number, at: number): number => {
    const output = new Downsampler24kTo8k().process(sine(f, 24000, 12000, TONE_AMPLITUDE));
    return toneAmplitude(output, at, 8000, SETTLE_8K) / TONE_AMPLITUDE;
  };
  const gains = PASSBAND.map((f) => decibels(measure(f, f)));
  let worst = { db: Infinity, hz: 0 };
  for (const f of ABOVE_NYQUIST) {
    const db = -decibels(measure(f, Math.abs(f - 8000 * Math.round(f / 8000))));
    if (db < worst.db) worst = { db, hz: f };
  }
  return { rippleDb: spread(gains), worstRejectionDb: worst.db, worstAtHz: worst.hz };
}

// --- Report ------------------------------------------------------------------------------------

function printSpeeds(title: string, speeds: Speed[]): void {
  const ours = speeds[0].best;
  console.log(`\n${title}`);
  console.log(
    `  ${'case'.padEnd(40)}${'best xRT'.padStart(11)}${'median xRT'.padStart(12)}` +
      `${'ours is'.padStart(10)}`,
  );
  for (const s of speeds) {
    const ratio = s === speeds[0] ? '' : `${(ours / s.best).toFixed(1)}x`;
    console.log(
      `  ${s.label.padEnd(40)}${s.best.toFixed(0).padStart(11)}${s.median.toFixed(0).padStart(12)}` +
        `${ratio.padStart(10)}`,
    );
  }
}

function printQuality(label: string, taps: number, q: Quality, measuredOn: string): void {
  const met = q.rippleDb <= TARGET_RIPPLE_DB && q.worstRejectionDb >= TARGET_REJECTION_DB;
  console.log(
    `  ${label.padEnd(24)}${String(taps).padStart(5)}${((taps - 1) / 48).toFixed(2).padStart(10)}` +
      `${q.rippleDb.toFixed(2).padStart(11)}${q.worstRejectionDb.toFixed(1).padStart(14)}` +
      `${(met ? 'met' : 'MISSED').padStart(8)}   ${measuredOn}, worst at ` +
      `${(q.worstAtHz / 1000).toFixed(3)} kHz`,
  );
}

let active = 0;
for (const frame of pcm8kFrames) {
  const energy = frame.reduce((sum, s) => sum + s * s, 0);
  if (Math.sqrt(energy / frame.length) > 300) active++;
}
const rms = Math.sqrt(speech8k.reduce((sum, s) => sum + s * s, 0) / speech8k.length);
// Bit-exactness, so the speed comparison is between codecs that compute the same thing.
const alawmulawEncodes = Array.from({ length: 65536 }, (_, i) => i - 32768).filter(
  (s) => (alawmulaw.mulaw.encodeSample(s) & 0xff) === linearToMulaw(s),
).length;
const alawmulawDecodes = Array.from({ length: 256 }, (_, code) => code).filter(
  (code) => alawmulaw.mulaw.decodeSample(code) === mulawToLinear(code),
).length;

console.log('bench:codec');
console.log(`  node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, one thread`);
console.log(
  `  input: ${SECONDS} s of speech-like audio (${pcm8kFrames.length} frames of 20 ms, ` +
    `${Math.round((100 * active) / pcm8kFrames.length)}% active, ` +
    `${decibels(rms / 32768).toFixed(1)} dBFS RMS), rendered at 8 kHz (mu-law) and 24 kHz (PCM16)`,
);
console.log('  xRT = seconds of audio per second of one core; "ours is" = our best / row best');
console.log(
  '  alawmulaw has no resampler: its rows pair its codec with the naive FIR or with ours',
);
console.log(
  `  alawmulaw matches the G.711 reference formulas (ours) on ${alawmulawEncodes}/65536 ` +
    `encodes and ${alawmulawDecodes}/256 decodes`,
);

const inboundSpeeds = inbound.map(measure);
printSpeeds('Twilio -> OpenAI: mu-law 8 kHz -> PCM16 24 kHz', inboundSpeeds);
console.log(
  `  target: ours >= ${TARGET_SPEED}x real time: ` +
    (inboundSpeeds[0].best >= TARGET_SPEED ? 'met' : 'MISSED'),
);
printSpeeds('  mu-law decode alone', decodeOnly.map(measure));
printSpeeds('OpenAI -> Twilio: PCM16 24 kHz -> mu-law 8 kHz', outbound.map(measure));
printSpeeds('  mu-law encode alone', encodeOnly.map(measure));

console.log(
  `\nFilters, measured by pushing tones through the resamplers (targets: ripple <= ` +
    `${TARGET_RIPPLE_DB} dB over 0.1-3.4 kHz, rejection >= ${TARGET_REJECTION_DB} dB)`,
);
console.log(
  `  ${'filter'.padEnd(24)}${'taps'.padStart(5)}${'delay ms'.padStart(10)}` +
    `${'ripple dB'.padStart(11)}${'rejection dB'.padStart(14)}${'target'.padStart(8)}`,
);
printQuality(
  '8k -> 24k upsampler',
  UPSAMPLER_PROTOTYPE.length,
  upsamplerQuality(),
  'images of 0.1-3.4 kHz tones (all above 4.6 kHz)',
);
printQuality(
  '24k -> 8k downsampler',
  DOWNSAMPLER_PROTOTYPE.length,
  downsamplerQuality(),
  'aliases of tones above 4 kHz',
);
