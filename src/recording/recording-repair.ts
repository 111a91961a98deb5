import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WAV_HEADER_BYTES, dataBytesOf, headerNeedsRepair, wavHeader } from './wav.js';

/** A recording's file name: its call's id and `.wav`. */
export const recordingFileName = (callSid: string): string => `${callSid}.wav`;

/** The call id of a recording's file name, or undefined for any other file. */
export function callSidOfFile(name: string): string | undefined {
  const match = /^([A-Za-z0-9_-]{1,64})\.wav$/.exec(name);
  return match?.[1];
}

/**
 * Completes the recordings a crash left (sizes of 0 in the header): each gets the sizes of the
 * whole frames it holds, so it plays up to the crash. Returns their call ids.
 */
export async function repairRecordings(dir: string): Promise<string[]> {
  const repaired: string[] = [];
  for (const name of await readdir(dir)) {
    const callSid = callSidOfFile(name);
    if (!callSid) continue;
    if (await repairRecording(join(dir, name))) repaired.push(callSid);
  }
  return repaired;
}

/** Completes one file's header if a crash left it incomplete; true if it did. */
export async function repairRecording(path: string): Promise<boolean> {
  const file = await open(path, 'r+');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(WAV_HEADER_BYTES);
    await file.read(header, 0, WAV_HEADER_BYTES, 0);
    if (headerNeedsRepair(header, size) !== true) return false;
    const data = dataBytesOf(size);
    await file.write(wavHeader(data), 0, WAV_HEADER_BYTES, 0);
    await file.truncate(WAV_HEADER_BYTES + data);
    return true;
  } finally {
    await file.close();
  }
}
