import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.js';

const run = promisify(execFile);

/** Where Debian's `postgresql` package puts its binaries (.ci/run installs it when missing). */
function binary(name: string): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const path = join(root, version, 'bin', name);
      if (existsSync(path)) return path;
    }
  }
  return name;
}

/** initdb and postgres refuse root: as root, run them as the `postgres` user. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', binary(command), ...args]]
    : [binary(command), args];
}

/**
 * A real PostgreSQL of the test's own: a fresh cluster in a temp dir, on a free loopback port,
 * trust authentication for one user. `stop()` is an outage (immediate), `start()` brings the
 * same cluster back on the same port, its data intact.
 */
export class TestPostgres {
  private readonly dir = mkdtempSync(join(tmpdir(), 'bridge-pg-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<TestPostgres> {
    const pg = new TestPostgres(await freePort());
    if (process.getuid?.() === 0) {
      const { uid, gid } = await userIds('postgres');
      chownSync(pg.dir, uid, gid);
    }
    chmodSync(pg.dir, 0o700);
    const [cmd, args] = asPostgres('initdb', [
      '-D',
      join(pg.dir, 'data'),
      '-U',
      'bridge',
      '-A',
      'trust',
      '--no-sync',
    ]);
    await run(cmd, args);
    await pg.start();
    const [createdb, createArgs] = asPostgres('createdb', [
      '-h',
      '127.0.0.1',
      '-p',
      String(pg.port),
      '-U',
      'bridge',
      'history',
    ]);
    await run(createdb, createArgs);
    return pg;
  }

  get url(): string {
    return `postgres://bridge:not-a-real-password@127.0.0.1:${this.port}/history`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    const [cmd, args] = asPostgres('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-o',
      options,
      '-l',
      join(this.dir, 'log'),
      '-w',
      'start',
    ]);
    await run(cmd, args);
  }

  async stop(): Promise<void> {
    const [cmd, args] = asPostgres('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-m',
      'immediate',
      '-w',
      'stop',
    ]);
    await run(cmd, args).catch(() => undefined);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([
    run('id', ['-u', user]).then((r) => Number(r.stdout.trim())),
    run('id', ['-g', user]).then((r) => Number(r.stdout.trim())),
  ]);
  return { uid, gid };
}
