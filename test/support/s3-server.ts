import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** s3rver's fixed credentials: the AWS SDK's default chain finds them in the environment. */
export const S3RVER_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
};

/**
 * An S3-compatible server on loopback (s3rver: protocol-faithful, signatures checked), with one
 * bucket, its objects in a temporary directory.
 */
export class S3Server {
  private constructor(
    private readonly server: S3rver,
    readonly directory: string,
    readonly endpoint: string,
    readonly bucket: string,
  ) {}

  static async start(bucket = 'recordings'): Promise<S3Server> {
    const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
    const server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    const { port } = await server.run();
    return new S3Server(server, directory, `http://127.0.0.1:${port}`, bucket);
  }

  /** The service's settings for this bucket. */
  env(prefix = 'calls/'): Record<string, string> {
    return {
      ...S3RVER_CREDENTIALS,
      RECORDINGS_S3_BUCKET: this.bucket,
      RECORDINGS_S3_ENDPOINT: this.endpoint,
      RECORDINGS_S3_REGION: 'us-east-1',
      RECORDINGS_S3_PREFIX: prefix,
    };
  }

  async stop(): Promise<void> {
    await this.server.close();
    await rm(this.directory, { recursive: true, force: true });
  }
}
