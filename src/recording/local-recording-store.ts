import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { callSidOfFile, recordingFileName } from './recording-repair.js';
import { RecordingStore, type ByteRange, type StoredRecording } from './recording-store.js';

/** Recordings kept where they were written: RECORDINGS_DIR. */
export class LocalRecordingStore extends RecordingStore {
  readonly kind = 'local';

  constructor(private readonly dir: string) {
    super();
  }

  keep(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  async find(callSid: string): Promise<StoredRecording | undefined> {
    const path = join(this.dir, recordingFileName(callSid));
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    return {
      bytes: info.size,
      read: (range?: ByteRange): Promise<Readable> =>
        Promise.resolve(
          createReadStream(path, range ? { start: range.start, end: range.end } : {}),
        ),
    };
  }

  async erase(callSid: string): Promise<void> {
    await rm(join(this.dir, recordingFileName(callSid)), { force: true });
  }

  async expire(before: Date): Promise<string[]> {
    const expired: string[] = [];
    // No directory yet: no recordings.
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const name of names) {
      const callSid = callSidOfFile(name);
      if (!callSid) continue;
      const info = await stat(join(this.dir, name)).catch(() => undefined);
      if (!info || info.mtime >= before) continue;
      await this.erase(callSid);
      expired.push(callSid);
    }
    return expired;
  }
}
