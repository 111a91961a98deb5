import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repairRecording, repairRecordings } from './recording-repair.js';
import { WAV_HEADER_BYTES, headerNeedsRepair, wavHeader } from './wav.js';
import { WavFileWriter } from './wav-file-writer.js';

describe('WAV recordings on disk', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'recording-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes a canonical 2-channel 8 kHz 16-bit header', () => {
    const header = wavHeader(320);
    expect(header.toString('ascii', 0, 4)).toBe('RIFF');
    expect(header.readUInt32LE(4)).toBe(36 + 320);
    expect(header.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect(header.readUInt16LE(20)).toBe(1);
    expect(header.readUInt16LE(22)).toBe(2);
    expect(header.readUInt32LE(24)).toBe(8000);
    expect(header.readUInt32LE(28)).toBe(32000);
    expect(header.readUInt16LE(32)).toBe(4);
    expect(header.readUInt16LE(34)).toBe(16);
    expect(header.toString('ascii', 36, 40)).toBe('data');
    expect(header.readUInt32LE(40)).toBe(320);
  });

  it('appends audio in order and completes the sizes at the end', async () => {
    const path = join(dir, 'CA1.wav');
    const writer = new WavFileWriter(path);
    writer.append(Buffer.alloc(400, 1));
    writer.append(Buffer.alloc(400, 2));
    await writer.finish();
    const file = await readFile(path);
    expect(file.length).toBe(WAV_HEADER_BYTES + 800);
    expect(file.subarray(0, WAV_HEADER_BYTES)).toEqual(wavHeader(800));
    expect(file.subarray(WAV_HEADER_BYTES, WAV_HEADER_BYTES + 400)).toEqual(Buffer.alloc(400, 1));
    expect(file.subarray(WAV_HEADER_BYTES + 400)).toEqual(Buffer.alloc(400, 2));
    expect(writer.failure).toBeUndefined();
  });

  it('fails the recording, without throwing, when the disk falls behind its queue bound', async () => {
    const writer = new WavFileWriter(join(dir, 'CA2.wav'), 1000);
    writer.append(Buffer.alloc(800));
    writer.append(Buffer.alloc(800));
    expect(writer.failure).toMatch(/fell behind/);
    await writer.finish();
    // What reached the disk is still a playable file.
    const file = await readFile(join(dir, 'CA2.wav'));
    expect(file.subarray(0, WAV_HEADER_BYTES)).toEqual(wavHeader(writer.writtenBytes));
    expect(file.length).toBe(WAV_HEADER_BYTES + writer.writtenBytes);
    expect(writer.writtenBytes).toBe(800);
  });

  it('fails the recording, without throwing, when the file cannot be written', async () => {
    const writer = new WavFileWriter(join(dir, 'missing', 'CA3.wav'));
    writer.append(Buffer.alloc(400));
    await writer.finish();
    expect(writer.failure).toMatch(/ENOENT/);
  });

  it('repairs a file a crash left (sizes of 0) so it plays up to the crash', async () => {
    const path = join(dir, 'CA4.wav');
    // The header as written at the start, 1000 bytes of audio, and half a frame.
    await writeFile(path, Buffer.concat([wavHeader(0), Buffer.alloc(1002, 7)]));
    expect(await repairRecordings(dir)).toEqual(['CA4']);
    const file = await readFile(path);
    expect(file.length).toBe(WAV_HEADER_BYTES + 1000);
    expect(file.subarray(0, WAV_HEADER_BYTES)).toEqual(wavHeader(1000));
    expect(headerNeedsRepair(file, file.length)).toBe(false);
  });

  it('leaves complete recordings and other files alone', async () => {
    const complete = join(dir, 'CA5.wav');
    await writeFile(complete, Buffer.concat([wavHeader(8), Buffer.alloc(8)]));
    await writeFile(join(dir, 'notes.txt'), 'x');
    await writeFile(join(dir, 'CA6.wav'), 'not a wav at all, not even 44 bytes');
    expect(await repairRecordings(dir)).toEqual([]);
    expect(await repairRecording(complete)).toBe(false);
    expect((await stat(complete)).size).toBe(WAV_HEADER_BYTES + 8);
  });
});
