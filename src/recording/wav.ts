/**
 * The recordings' WAV format: RIFF, PCM, 2 channels (1: the caller, 2: the assistant as the
 * caller heard it), 8000 Hz, 16-bit little-endian, with the canonical 44-byte header.
 */
export const WAV_CHANNELS = 2;
export const WAV_SAMPLE_RATE = 8000;
export const WAV_BYTES_PER_SAMPLE = 2;
/** One sample of each channel. */
export const WAV_FRAME_BYTES = WAV_CHANNELS * WAV_BYTES_PER_SAMPLE;
/** Bytes of audio per millisecond: 32 (1.92 MB a minute). */
export const WAV_BYTES_PER_MS = (WAV_SAMPLE_RATE / 1000) * WAV_FRAME_BYTES;
export const WAV_HEADER_BYTES = 44;
/** RIFF sizes are 32-bit: the most audio one file can describe. */
export const WAV_MAX_DATA_BYTES = 0xffff_ffff - (WAV_HEADER_BYTES - 8);

/** The header for `dataBytes` bytes of audio. */
export function wavHeader(dataBytes: number): Buffer {
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(WAV_CHANNELS, 22);
  header.writeUInt32LE(WAV_SAMPLE_RATE, 24);
  header.writeUInt32LE(WAV_SAMPLE_RATE * WAV_FRAME_BYTES, 28);
  header.writeUInt16LE(WAV_FRAME_BYTES, 32);
  header.writeUInt16LE(WAV_BYTES_PER_SAMPLE * 8, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** The audio a file of `fileBytes` holds: whole frames after the header. */
export function dataBytesOf(fileBytes: number): number {
  const data = Math.max(0, Math.min(fileBytes - WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES));
  return data - (data % WAV_FRAME_BYTES);
}

export function durationMsOf(dataBytes: number): number {
  return Math.round(dataBytes / WAV_BYTES_PER_MS);
}

/**
 * Whether a recording's header needs its sizes written: a recording is started with sizes of 0
 * and completed when the call ends, so a file whose sizes do not match its length was left by a
 * crash (or is not one of ours: `undefined`).
 */
export function headerNeedsRepair(header: Buffer, fileBytes: number): boolean | undefined {
  if (header.length < WAV_HEADER_BYTES) return undefined;
  if (!wavHeader(0).subarray(0, 4).equals(header.subarray(0, 4))) return undefined;
  if (header.toString('ascii', 8, 12) !== 'WAVE' || header.toString('ascii', 36, 40) !== 'data') {
    return undefined;
  }
  const data = dataBytesOf(fileBytes);
  return header.readUInt32LE(40) !== data || header.readUInt32LE(4) !== WAV_HEADER_BYTES - 8 + data;
}
