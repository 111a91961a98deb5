import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStreamTwiml, postTwiml, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { CHILD_NODE_IMPORTS } from './support/child-node.js';
import { offlineEnv } from './support/no-internet.js';
import { freePort, TestRedis } from './support/redis-server.js';
import { waitUntil } from './support/wait.js';

// The container image runs `dist/` with production dependencies only (`npm prune --omit=dev`).
// This proves that is enough: a copy of the built service with `npm ci --omit=dev`, started
// as the image starts it, in cluster mode (so the Redis client is among what it loads).

const ROOT = join(import.meta.dirname, '..');

describe('the built service with production dependencies only', () => {
  let dir: string;
  let redis: TestRedis;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-prod-'));
    for (const file of ['package.json', 'package-lock.json'])
      cpSync(join(ROOT, file), join(dir, file));
    cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    const install = spawnSync(
      'npm',
      ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd: dir, encoding: 'utf8', timeout: 240_000 },
    );
    if (install.status !== 0) throw new Error(`npm ci --omit=dev failed: ${install.stderr}`);
    redis = await TestRedis.start();
  }, 300_000);

  afterEach(() => stop());

  afterAll(async () => {
    await redis?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the copy as the image starts it; resolves with its port once it listens or exits. */
  async function start(
    env: Record<string, string>,
  ): Promise<{ port: number; output: () => string }> {
    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, [...CHILD_NODE_IMPORTS, 'dist/main.js'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        ...offlineEnv({}),
        PORT: String(port),
        OPENAI_API_KEY: 'sk-prod-only',
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(
      () => /listening on port/.test(output) || child?.exitCode !== null,
      'the service to start',
      30_000,
    );
    return { port, output: () => output };
  }

  async function stop(): Promise<void> {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }

  it('starts, answers health and a signed webhook, without any dev dependency', async () => {
    const { port, output } = await start({
      REDIS_URL: redis.url,
      CLUSTER_SECRET: 'prod-only-cluster-secret-5e8b1c0f9a7d3e26',
      INSTANCE_ID: 'prod-only',
      // A cluster needs the history's PostgreSQL; this test is about the installed packages.
      HISTORY: 'off',
    });
    expect(output()).toMatch(/listening on port/);
    expect(output()).not.toMatch(/Cannot find (module|package)/);

    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const webhook = await postTwiml(base, {
      CallSid: 'CA0123456789abcdef0123456789abcdef',
      From: '+15550001111',
      To: '+15550002222',
    });
    expect(webhook.status).toBe(200);
    expect(parseStreamTwiml(await webhook.text()).url).toBe(`ws://127.0.0.1:${port}/media-stream`);
  }, 60_000);

  it('starts under NODE_ENV=development without pino-pretty: JSON logs and one warning saying why', async () => {
    const { output } = await start({ NODE_ENV: 'development', HISTORY: 'off' });
    expect(output()).toMatch(/listening on port/);
    const lines = output().trim().split('\n');
    expect(lines.every((line) => line.startsWith('{'))).toBe(true);
    const warnings = lines.filter((line) => line.includes('pino-pretty'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/"level":40,.*Install pino-pretty for pretty logs/);
  }, 60_000);
});
