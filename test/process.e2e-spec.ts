import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv as parseDotEnv } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { CHILD_NODE_IMPORTS } from './support/child-node.js';
import { offlineEnv } from './support/no-internet.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { TEST_API_TOKEN } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { waitUntil } from './support/wait.js';

// The built service as operators run it (`node dist/main.js`; `npm test` builds first).

const MAIN = resolve('dist/main.js');

/** Starts `node dist/main.js` (PORT=0 unless given: the log names the real port). */
/** An empty working directory: a developer's own .env in the repository must not leak in. */
const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'bridge-cwd-'));
afterAll(() => rmSync(EMPTY_DIR, { recursive: true, force: true }));

async function startService(
  env: Record<string, string>,
  cwd = EMPTY_DIR,
): Promise<{ child: ChildProcess; output: () => string; baseUrl: string }> {
  let output = '';
  const child = spawn(process.execPath, [...CHILD_NODE_IMPORTS, MAIN], {
    cwd,
    // HISTORY off unless a test asks: see test/support/bridge.ts.
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: '0',
      HISTORY: 'off',
      ...offlineEnv(env),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil(
    () => /listening on port (\d+)/.test(output) || child.exitCode !== null,
    'the service to start',
    15000,
  );
  const port = /listening on port (\d+)/.exec(output)?.[1] ?? '0';
  return { child, output: () => output, baseUrl: `http://127.0.0.1:${port}` };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

describe('the built service', () => {
  it('refuses to start without OPENAI_API_KEY and says why', async () => {
    const { child, output } = await startService({ TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN, PORT: '0' });
    if (child.exitCode === null) await once(child, 'exit');
    expect(child.exitCode).toBe(1);
    expect(output()).toContain('OPENAI_API_KEY: is required');
    expect(output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('warns at start-up when signature validation is switched off', async () => {
    const { child, output } = await startService({
      OPENAI_API_KEY: 'sk-x',
      TWILIO_VALIDATE_SIGNATURES: 'false',
      PORT: '0',
    });
    try {
      expect(output()).toMatch(/"level":40,.*TWILIO_VALIDATE_SIGNATURES=false/);
    } finally {
      await stop(child);
    }
  });

  it('starts with nothing but a .env file, and the process environment wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-dotenv-'));
    // PORT=1 in the file would fail (privileged); the environment's PORT=0 must win.
    writeFileSync(
      join(dir, '.env'),
      `OPENAI_API_KEY=sk-from-dotenv-secret\nTWILIO_AUTH_TOKEN="${TEST_AUTH_TOKEN}"\nPORT=1\n# a comment\nAPI_TOKEN=${TEST_API_TOKEN}\n`,
    );
    const { child, output, baseUrl } = await startService({ PORT: '0' }, dir);
    try {
      expect(child.exitCode).toBeNull();
      const port = Number(/listening on port (\d+)/.exec(output())?.[1]);
      expect(port).toBeGreaterThan(1); // the real port, not "0", and not the file's PORT
      expect(output()).toContain(join(dir, '.env'));
      expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
      // API_TOKEN came from the file: the call-control API exists and wants that token.
      const calls = await fetch(`${baseUrl}/api/calls`, {
        headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
      });
      expect(calls.status).toBe(200);
      expect(output()).not.toContain('sk-from-dotenv-secret');
    } finally {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says in one line that the port is in use, and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, done));
    const { port } = blocker.address() as { port: number };
    try {
      const { child, output } = await startService({
        OPENAI_API_KEY: 'sk-x',
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        PORT: String(port),
      });
      if (child.exitCode === null) await once(child, 'exit');
      expect(child.exitCode).toBe(1);
      expect(output()).toContain(`Cannot listen on port ${port}: it is already in use`);
      expect(output()).not.toMatch(/\n\s+at /);
      expect(output()).not.toContain('successfully started');
    } finally {
      blocker.close();
    }
  });

  it('says in one line that the history database is unreachable, and exits 1', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const { child, output } = await startService({
      OPENAI_API_KEY: 'sk-x',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      HISTORY: 'on',
      DATABASE_URL: 'postgres://bridge:db-secret@127.0.0.1:1/history',
    });
    if (child.exitCode === null) await once(child, 'exit');
    expect(child.exitCode).toBe(1);
    expect(output().trim().split('\n')).toEqual([
      expect.stringMatching(
        /^Cannot reach the history database at DATABASE_URL \(127\.0\.0\.1:1\/history\)/,
      ),
    ]);
    expect(output()).not.toContain('db-secret');
  });

  it('says at info in a few lines that it is up, and names process metrics bridge_process_*', async () => {
    const { child, output, baseUrl } = await startService({
      OPENAI_API_KEY: 'sk-x',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      PUBLIC_URL: 'https://voice.example.com',
    });
    try {
      const lines = output()
        .split('\n')
        .filter((line) => line.startsWith('{'));
      expect(lines.length).toBeLessThanOrEqual(4);
      expect(output()).not.toContain('Mapped {');
      const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
      expect(metrics).toContain('bridge_process_cpu_user_seconds_total');
      expect(metrics).not.toContain('bridge_process_process_');
    } finally {
      await stop(child);
    }
  });

  it('warns loudly when Twilio would be given a ws:// Stream URL outside development', async () => {
    const { child, output } = await startService({
      OPENAI_API_KEY: 'sk-x',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      PUBLIC_URL: 'http://voice.example.com/edge',
    });
    try {
      expect(output()).toMatch(
        /"level":40,.*ws:\/\/voice.example.com\/edge\/media-stream.*only to wss:\/\//,
      );
    } finally {
      await stop(child);
    }
  });

  it('drains on SIGTERM and exits with code 0 within SHUTDOWN_DRAIN_S + 5 s, whatever OpenAI does', async () => {
    const openai = new FakeRealtimeServer();
    await openai.start();
    const { child, baseUrl, output } = await startService({
      OPENAI_API_KEY: 'sk-x-secret',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      OPENAI_REALTIME_URL: openai.url,
      PORT: '0',
      SHUTDOWN_DRAIN_S: '2',
    });
    await fetch(`${baseUrl}/health`);
    const call = await FakeTwilioCall.dial(baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    // OpenAI will not answer a close: its socket just hangs.
    upstream.socket.pause();

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    const took = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(1800); // the active call was given its drain time
    expect(took).toBeLessThan(7000);
    expect(await call.waitForClose()).toBeDefined();

    // Structured logs: every line of the call carries its ids; no secret, no health probe.
    const lines = output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown> & { req?: { url?: string } });
    const callLines = lines.filter((line) => line.context === 'Call');
    expect(callLines.length).toBeGreaterThanOrEqual(3);
    for (const line of callLines)
      expect(line).toMatchObject({ callSid: call.callSid, streamSid: call.streamSid });
    expect(lines.some((line) => line.req?.url === '/api/twiml')).toBe(true);
    expect(lines.some((line) => line.req?.url?.startsWith('/health'))).toBe(false);
    expect(output()).not.toContain(TEST_AUTH_TOKEN);
    expect(output()).not.toContain('sk-x-secret');
    await openai.stop();
  }, 20000);
});

describe('the built service and placeholder secrets', () => {
  let service: ServiceProcess | undefined;
  // On the code before these rules the service starts: never leave it running.
  afterEach(() => service?.kill());
  /** The problem lines of a refused start: `  - NAME: reason`. */
  const problemNames = (logs: string) =>
    [...logs.matchAll(/^\s+- ([A-Z_]+): /gm)].map((match) => match[1]);

  it('refuses API_TOKEN=replace-me and the .env.example OPENAI_API_KEY: exit 1, one line each, no value', async () => {
    const exampleKey = parseDotEnv(readFileSync('.env.example', 'utf8')).OPENAI_API_KEY;
    expect(exampleKey).toBeTruthy();
    service = await ServiceProcess.start(
      { OPENAI_API_KEY: exampleKey!, TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN, API_TOKEN: 'replace-me' },
      15_000,
      MAIN,
      EMPTY_DIR,
    );
    expect(await service.waitForExit(10_000)).toBe(1);
    expect(problemNames(service.logs)).toEqual(['API_TOKEN', 'OPENAI_API_KEY']);
    expect(service.logs).toMatch(/^\s+- API_TOKEN: is a placeholder from our examples/m);
    expect(service.logs).toMatch(/^\s+- OPENAI_API_KEY: is a placeholder from our examples/m);
    expect(service.logs).not.toContain('replace-me');
    expect(service.logs).not.toContain(exampleKey);
    expect(service.logs).not.toMatch(/\n\s+at /);
  });

  it('does not start with the Kubernetes Secret left as shipped: one line per placeholder', async () => {
    // The file's first document is the bridge's Secret (the second is Redis's own password).
    const [bridgeSecret] = parseAllDocuments(readFileSync('deploy/k8s/secret.yaml', 'utf8'));
    const shipped = bridgeSecret.toJS() as { stringData: Record<string, string> };
    service = await ServiceProcess.start(shipped.stringData, 15_000, MAIN, EMPTY_DIR);
    expect(await service.waitForExit(10_000)).toBe(1);
    expect(problemNames(service.logs).sort()).toEqual(
      [
        'API_TOKEN',
        'CLUSTER_SECRET',
        'DATABASE_URL',
        'OPENAI_API_KEY',
        'REDIS_URL',
        'TWILIO_AUTH_TOKEN',
      ].sort(),
    );
    expect(service.logs).not.toContain('replace-me');
  });
});
