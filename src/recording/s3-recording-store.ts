import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { callSidOfFile, recordingFileName } from './recording-repair.js';
import { RecordingStore, type ByteRange, type StoredRecording } from './recording-store.js';

/** Attempts to upload a finished recording before it is marked failed. */
export const MAX_UPLOAD_ATTEMPTS = 5;
/** The wait before the second attempt; doubled before each next one (1, 2, 4, 8 s). */
export const UPLOAD_RETRY_BASE_MS = 1000;
/** Multipart parts in flight per upload (each at most 5 MiB, the SDK's part size). */
export const UPLOAD_QUEUE_SIZE = 2;

export interface S3StoreSettings {
  bucket: string;
  endpoint?: string;
  region?: string;
  prefix?: string;
  retryBaseMs?: number;
}

/**
 * Recordings in an S3-compatible bucket, uploaded from the local file once the call has ended
 * (then the local file is removed). Credentials come from the AWS SDK's default chain; a custom
 * endpoint (MinIO, Ceph, R2...) is addressed path-style, which all of them understand.
 */
export class S3RecordingStore extends RecordingStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly settings: S3StoreSettings) {
    super();
    this.client = new S3Client({
      region: settings.region ?? 'us-east-1',
      ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    });
    const prefix = settings.prefix?.replace(/^\/+|\/+$/g, '') ?? '';
    this.prefix = prefix ? `${prefix}/` : '';
  }

  async keep(callSid: string, localPath: string): Promise<string | undefined> {
    const retryBaseMs = this.settings.retryBaseMs ?? UPLOAD_RETRY_BASE_MS;
    let failure = '';
    for (let attempt = 1; attempt <= MAX_UPLOAD_ATTEMPTS; attempt++) {
      if (attempt > 1) await sleep(retryBaseMs * 2 ** (attempt - 2));
      try {
        await new Upload({
          client: this.client,
          queueSize: UPLOAD_QUEUE_SIZE,
          params: {
            Bucket: this.settings.bucket,
            Key: this.keyOf(callSid),
            Body: createReadStream(localPath),
            ContentType: 'audio/wav',
          },
        }).done();
        await rm(localPath, { force: true });
        return undefined;
      } catch (error) {
        failure = (error as Error).message;
      }
    }
    return `upload to S3 failed ${MAX_UPLOAD_ATTEMPTS} times: ${failure}`;
  }

  async find(callSid: string): Promise<StoredRecording | undefined> {
    const Key = this.keyOf(callSid);
    let bytes: number;
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key }),
      );
      bytes = head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return {
      bytes,
      read: async (range?: ByteRange): Promise<Readable> => {
        const object = await this.client.send(
          new GetObjectCommand({
            Bucket: this.settings.bucket,
            Key,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        );
        return object.Body as Readable;
      },
    };
  }

  async erase(callSid: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.keyOf(callSid) }),
    );
  }

  async expire(before: Date): Promise<string[]> {
    const expired: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.settings.bucket,
          Prefix: this.prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const callSid = callSidOfFile(object.Key?.slice(this.prefix.length) ?? '');
        if (!callSid || !object.LastModified || object.LastModified >= before) continue;
        await this.erase(callSid);
        expired.push(callSid);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return expired;
  }

  override close(): void {
    this.client.destroy();
  }

  private keyOf(callSid: string): string {
    return `${this.prefix}${recordingFileName(callSid)}`;
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NotFound' ||
      error.name === 'NoSuchKey' ||
      error.$metadata.httpStatusCode === 404)
  );
}
