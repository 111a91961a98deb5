/**
 * Reads a PCM WAV file as a player would (independently of the bridge's writer): the fmt
 * chunk's fields and each channel's samples.
 */
export interface ParsedWav {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  riffSize: number;
  dataSize: number;
  left: Int16Array;
  right: Int16Array;
}

export function parseWav(file: Buffer): ParsedWav {
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let offset = 12;
  let format: { channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = {
        channels: file.readUInt16LE(body + 2),
        sampleRate: file.readUInt32LE(body + 4),
        bitsPerSample: file.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format) throw new Error('data before fmt');
      const data = file.subarray(body, body + size);
      const frames = Math.floor(data.length / (2 * format.channels));
      const left = new Int16Array(frames);
      const right = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        left[i] = data.readInt16LE(i * 2 * format.channels);
        if (format.channels > 1) right[i] = data.readInt16LE(i * 2 * format.channels + 2);
      }
      return { ...format, riffSize: file.readUInt32LE(4), dataSize: size, left, right };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** Indexes of the first and last sample louder than `threshold`, or undefined if none. */
export function loudSpan(
  samples: Int16Array,
  threshold = 1000,
): { first: number; last: number } | undefined {
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]) > threshold) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return first < 0 ? undefined : { first, last };
}

/** Stretches of at least `minMs` quieter than `threshold` within samples [from, to): [atMs, ms]. */
export function silentStretches(
  samples: Int16Array,
  from: number,
  to: number,
  minMs: number,
  threshold = 300,
): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  let run = 0;
  for (let i = from; i <= to; i++) {
    if (i < to && Math.abs(samples[i]) < threshold) {
      run++;
      continue;
    }
    if (run >= minMs * 8) found.push([(i - run) / 8, run / 8]);
    run = 0;
  }
  return found;
}
