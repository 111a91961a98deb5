import type { Readable } from 'node:stream';

/** Bytes `start` to `end`, both included (as HTTP ranges count them). */
export interface ByteRange {
  start: number;
  end: number;
}

/** A stored recording, found for reading. */
export interface StoredRecording {
  bytes: number;
  /** The file, or a part of it, as a stream: never read whole into memory. */
  read(range?: ByteRange): Promise<Readable>;
}

/**
 * Where finished recordings are kept: the local directory, or an S3-compatible bucket. Every
 * recording is first written to the local directory while its call runs (`localPathOf`);
 * `keep` moves it to its store once complete.
 */
export abstract class RecordingStore {
  /** Store name for logs and docs: `local` or `s3`. */
  abstract readonly kind: string;
  /** The recording is complete on disk: keep it. Resolves to a failure reason, if any. */
  abstract keep(callSid: string, localPath: string): Promise<string | undefined>;
  abstract find(callSid: string): Promise<StoredRecording | undefined>;
  /** Deletes it (nothing if there is none); rejects if it could not. */
  abstract erase(callSid: string): Promise<void>;
  /** Deletes every recording last written before `before`; returns their call ids. */
  abstract expire(before: Date): Promise<string[]>;
  /** Releases connections at shutdown. */
  close(): void {}
}
