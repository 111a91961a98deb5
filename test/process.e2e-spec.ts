import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { waitUntil } from './support/wait.js';

// The built service as operators run it (`node dist/main.js`; `npm test` builds first).

async function startService(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string; baseUrl: string }> {
  let output = '';
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil(
    () => /listening on port (\d+)/.test(output) || child.exitCode !== null,
    'the service to start',
    15000,
  );
  return { child, output: () => output, baseUrl: `http://127.0.0.1:${env.PORT}` };
}

describe('the built service', () => {
  it('refuses to start without OPENAI_API_KEY and says why', async () => {
    const { child, output } = await startService({ TWILIO_AUTH_TOKEN: 'x', PORT: '0' });
    if (child.exitCode === null) await once(child, 'exit');
    expect(child.exitCode).toBe(1);
    expect(output()).toContain('OPENAI_API_KEY: is required');
    expect(output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it('warns at start-up when signature validation is switched off', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const { child, output } = await startService({
      OPENAI_API_KEY: 'sk-x',
      TWILIO_VALIDATE_SIGNATURES: 'false',
      PORT: port,
    });
    try {
      expect(output()).toMatch(/"level":40,.*TWILIO_VALIDATE_SIGNATURES=false/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('drains on SIGTERM and exits with code 0 within SHUTDOWN_DRAIN_S + 5 s, whatever OpenAI does', async () => {
    const openai = new FakeRealtimeServer();
    await openai.start();
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const { child, baseUrl, output } = await startService({
      OPENAI_API_KEY: 'sk-x-secret',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      OPENAI_REALTIME_URL: openai.url,
      PORT: port,
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
