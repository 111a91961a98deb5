import { mulawToLinear } from '../../src/audio/mulaw.js';

/**
 * Reading and writing RIFF/WAVE files, enough for any file a user is likely to hand the simulator:
 * PCM 8/16/24/32-bit, IEEE float 32/64-bit, G.711 mu-law and A-law, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count and sample rate.
 */

export type WavEncoding = 'pcm' | 'float' | 'mulaw' | 'alaw';

export interface WavFormat {
  encoding: WavEncoding;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

export interface DecodedWav {
  format: WavFormat;
  /** One array per channel, samples in [-1, 1). */
  channels: Float32Array[];
  /** The raw bytes of the `data` chunk (used to pass 8 kHz mono mu-law through untouched). */
  data: Buffer;
}

export class WavError extends Error {
  override name = 'WavError';
}

const FORMAT_TAGS: Record<number, WavEncoding> = { 1: 'pcm', 3: 'float', 6: 'alaw', 7: 'mulaw' };
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

interface Chunk {
  id: string;
  body: Buffer;
}

/** The chunks of a RIFF/WAVE file, tolerating a truncated last chunk (files written by a pipe). */
function readChunks(file: Buffer): Chunk[] {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF') {
    throw new WavError('not a WAV file (no RIFF header)');
  }
  if (file.toString('ascii', 8, 12) !== 'WAVE') throw new WavError('RIFF file is not WAVE');
  const chunks: Chunk[] = [];
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const declared = file.readUInt32LE(offset + 4);
    const start = offset + 8;
    // Streaming writers leave the size at 0 or 0xFFFFFFFF; the data then runs to the end.
    const end =
      declared === 0 && id === 'data' ? file.length : Math.min(start + declared, file.length);
    chunks.push({ id, body: file.subarray(start, end) });
    offset = start + declared + (declared % 2); // chunks are padded to an even length
  }
  return chunks;
}

function parseFormat(fmt: Buffer): WavFormat {
  if (fmt.length < 16) throw new WavError('fmt chunk too short');
  let tag = fmt.readUInt16LE(0);
  const channels = fmt.readUInt16LE(2);
  const sampleRate = fmt.readUInt32LE(4);
  const bitsPerSample = fmt.readUInt16LE(14);
  // The real format of an extensible file is the first two bytes of its SubFormat GUID.
  if (tag === WAVE_FORMAT_EXTENSIBLE && fmt.length >= 26) tag = fmt.readUInt16LE(24);
  const encoding = FORMAT_TAGS[tag];
  if (!encoding) throw new WavError(`unsupported WAV format tag 0x${tag.toString(16)}`);
  if (channels < 1) throw new WavError('WAV declares no channels');
  if (sampleRate < 1000 || sampleRate > 384000) {
    throw new WavError(`implausible sample rate ${sampleRate}`);
  }
  const supported =
    (encoding === 'pcm' && [8, 16, 24, 32].includes(bitsPerSample)) ||
    (encoding === 'float' && [32, 64].includes(bitsPerSample)) ||
    ((encoding === 'mulaw' || encoding === 'alaw') && bitsPerSample === 8);
  if (!supported) throw new WavError(`unsupported ${encoding} WAV with ${bitsPerSample} bits`);
  return { encoding, sampleRate, channels, bitsPerSample };
}

/** G.711 A-law to 16-bit linear (ITU-T G.711), only for reading A-law files. */
export function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const magnitude =
    exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function sampleReader(format: WavFormat): (data: Buffer, offset: number) => number {
  switch (format.encoding) {
    case 'pcm':
      switch (format.bitsPerSample) {
        case 8:
          return (data, offset) => (data[offset] - 128) / 128; // 8-bit WAV is unsigned
        case 16:
          return (data, offset) => data.readInt16LE(offset) / 32768;
        case 24:
          return (data, offset) => data.readIntLE(offset, 3) / 8388608;
        default:
          return (data, offset) => data.readInt32LE(offset) / 2147483648;
      }
    case 'float':
      return format.bitsPerSample === 32
        ? (data, offset) => data.readFloatLE(offset)
        : (data, offset) => data.readDoubleLE(offset);
    case 'mulaw':
      return (data, offset) => mulawToLinear(data[offset]) / 32768;
    case 'alaw':
      return (data, offset) => alawToLinear(data[offset]) / 32768;
  }
}

/** Decodes a WAV file into per-channel float samples. */
export function decodeWav(file: Buffer): DecodedWav {
  const chunks = readChunks(file);
  const fmt = chunks.find((chunk) => chunk.id === 'fmt ');
  const data = chunks.find((chunk) => chunk.id === 'data');
  if (!fmt) throw new WavError('WAV has no fmt chunk');
  if (!data) throw new WavError('WAV has no data chunk');
  const format = parseFormat(fmt.body);
  const bytesPerSample = format.bitsPerSample / 8;
  const blockAlign = bytesPerSample * format.channels;
  const frames = Math.floor(data.body.length / blockAlign);
  const read = sampleReader(format);
  const channels = Array.from({ length: format.channels }, () => new Float32Array(frames));
  for (let frame = 0; frame < frames; frame++) {
    for (let channel = 0; channel < format.channels; channel++) {
      channels[channel][frame] = read(data.body, frame * blockAlign + channel * bytesPerSample);
    }
  }
  return { format, channels, data: data.body.subarray(0, frames * blockAlign) };
}

/** The average of all channels: what a phone's single microphone would hear. */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0];
  const mono = new Float32Array(channels[0].length);
  for (const channel of channels) {
    for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / channels.length;
  }
  return mono;
}

/** A 16-bit PCM WAV file. `samples` holds interleaved frames when `channels` > 1. */
export function encodeWavPcm16(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  const dataBytes = samples.length * 2;
  const file = Buffer.alloc(44 + dataBytes);
  file.write('RIFF', 0, 'ascii');
  file.writeUInt32LE(36 + dataBytes, 4);
  file.write('WAVE', 8, 'ascii');
  file.write('fmt ', 12, 'ascii');
  file.writeUInt32LE(16, 16);
  file.writeUInt16LE(1, 20);
  file.writeUInt16LE(channels, 22);
  file.writeUInt32LE(sampleRate, 24);
  file.writeUInt32LE(sampleRate * channels * 2, 28);
  file.writeUInt16LE(channels * 2, 32);
  file.writeUInt16LE(16, 34);
  file.write('data', 36, 'ascii');
  file.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) file.writeInt16LE(samples[i], 44 + i * 2);
  return file;
}

export function describeFormat(format: WavFormat): string {
  const channels =
    format.channels === 1 ? 'mono' : format.channels === 2 ? 'stereo' : `${format.channels} ch`;
  const encoding =
    format.encoding === 'pcm'
      ? `${format.bitsPerSample}-bit PCM`
      : format.encoding === 'float'
        ? `${format.bitsPerSample}-bit float`
        : format.encoding === 'mulaw'
          ? 'mu-law'
          : 'A-law';
  return `${format.sampleRate} Hz ${channels} ${encoding}`;
}
