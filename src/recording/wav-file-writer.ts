import { open, type FileHandle } from 'node:fs/promises';
import { WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES, wavHeader } from './wav.js';

/**
 * Audio waiting for the disk, per recording: about 32 s of stereo. A disk that falls further
 * behind than this fails the recording rather than holding the call's audio in memory.
 */
export const MAX_RECORDING_QUEUE_BYTES = 1024 * 1024;

/**
 * One WAV file written as the call runs: a header with sizes of 0 first (a crash leaves a file
 * `repairRecordings` recognises and completes), then PCM appended in order, then the final
 * sizes. Writes are queued and never awaited by the caller: `append` returns at once. The first
 * failure (a write error, or the queue past its bound) ends the recording: no more audio is
 * taken, the reason is kept in `failure`, and the sizes describe what reached the disk.
 */
export class WavFileWriter {
  failure?: string;
  /** Audio bytes accepted (written, or queued to be). */
  dataBytes = 0;
  /** Audio bytes on disk: all of `dataBytes` once finished, unless it failed. */
  writtenBytes = 0;
  private queuedBytes = 0;
  private diskFailed = false;
  private file?: FileHandle;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly maxQueueBytes = MAX_RECORDING_QUEUE_BYTES,
  ) {
    this.tail = this.step(async () => {
      this.file = await open(path, 'w');
      await this.file.write(wavHeader(0), 0, WAV_HEADER_BYTES, 0);
    });
  }

  append(pcm: Buffer): void {
    if (this.failure || pcm.length === 0) return;
    if (this.queuedBytes + pcm.length > this.maxQueueBytes) {
      this.fail(`the disk fell behind by more than ${this.maxQueueBytes} bytes`);
      return;
    }
    if (this.dataBytes + pcm.length > WAV_MAX_DATA_BYTES) {
      this.fail('the recording reached the largest size a WAV file can describe');
      return;
    }
    const position = WAV_HEADER_BYTES + this.dataBytes;
    this.dataBytes += pcm.length;
    this.queuedBytes += pcm.length;
    this.tail = this.step(async () => {
      try {
        await this.file!.write(pcm, 0, pcm.length, position);
        this.writtenBytes += pcm.length;
      } finally {
        this.queuedBytes -= pcm.length;
      }
    });
  }

  /**
   * Waits for every write, writes the final sizes and closes the file. After a failure the
   * sizes still describe what reached the disk (best effort), so the part before it plays.
   */
  async finish(): Promise<void> {
    await this.tail;
    const file = this.file;
    if (!file) return;
    try {
      await file.write(wavHeader(this.writtenBytes), 0, WAV_HEADER_BYTES, 0);
      if (this.failure) await file.truncate(WAV_HEADER_BYTES + this.writtenBytes);
    } catch (error) {
      this.fail((error as Error).message);
    }
    try {
      await file.close();
    } catch (error) {
      this.fail(`closing: ${(error as Error).message}`);
    }
  }

  /**
   * Runs after what is queued; nothing more runs after a write error (what is queued when the
   * queue overflows is still written). Never rejects.
   */
  private step(run: () => Promise<unknown>): Promise<void> {
    return this.tail.then(async () => {
      if (this.diskFailed) return;
      try {
        await run();
      } catch (error) {
        this.diskFailed = true;
        this.fail((error as Error).message);
      }
    });
  }

  private fail(reason: string): void {
    this.failure ??= reason;
  }
}
