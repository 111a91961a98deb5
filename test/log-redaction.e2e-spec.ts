import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { postTwiml, TEST_AUTH_TOKEN, testSid } from './support/fake-twilio.js';
import { waitUntil } from './support/wait.js';

// The production log configuration's real output (`node dist/main.js`, NODE_ENV=production,
// pino JSON on stdout): request lines are logged, the secrets in their headers are not.

const API_TOKEN = 'api-token-that-must-never-be-logged-7f3a';

describe('production logs', () => {
  let child: ChildProcess | undefined;

  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });

  it('log request lines with Authorization and X-Twilio-Signature redacted', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    let output = '';
    child = spawn(process.execPath, ['dist/main.js'], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        OPENAI_API_KEY: 'sk-x',
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        API_TOKEN,
        PORT: port,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(() => /listening on port/.test(output), 'the service to start', 15000);
    const baseUrl = `http://127.0.0.1:${port}`;

    const listed = await fetch(`${baseUrl}/api/calls`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(listed.status).toBe(200);
    const signature = 'c2lnbmF0dXJlLXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==';
    const refused = await postTwiml(baseUrl, { CallSid: testSid('CA') }, { signature });
    expect(refused.status).toBe(403);

    const lines = () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map(
          (line) =>
            JSON.parse(line) as { req?: { url?: string; headers?: Record<string, string> } },
        );
    await waitUntil(
      () => lines().filter((line) => line.req?.url?.startsWith('/api/')).length >= 2,
      'both request lines',
    );
    const calls = lines().find((line) => line.req?.url === '/api/calls')!;
    expect(calls.req!.headers!.authorization).toBe('[redacted]');
    const twiml = lines().find((line) => line.req?.url === '/api/twiml')!;
    expect(twiml.req!.headers!['x-twilio-signature']).toBe('[redacted]');
    expect(output).not.toContain(API_TOKEN);
    expect(output).not.toContain(signature);
    expect(output).not.toContain(signature.replace(/=+$/, ''));
  }, 30000);
});
