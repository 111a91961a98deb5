import { postTwiml, TEST_AUTH_TOKEN, testSid } from './support/fake-twilio.js';
import { ServiceProcess } from './support/service-process.js';
import { waitUntil } from './support/wait.js';

// The production log configuration's real output (`node dist/main.js`, NODE_ENV=production,
// pino JSON on stdout): request lines are logged, the secrets in their headers are not.

const API_TOKEN = 'api-token-that-must-never-be-logged-7f3a';

interface RequestLine {
  req?: { url?: string; headers?: Record<string, string> };
  res?: { headers?: Record<string, string> };
  request?: string;
}

describe('production logs', () => {
  let service: ServiceProcess | undefined;

  afterEach(async () => {
    await service?.kill();
    service = undefined;
  });

  const lines = () => service!.jsonLines() as RequestLine[];

  /** The built service in production mode, with the console and the API on. */
  async function startService(): Promise<ServiceProcess> {
    service = await ServiceProcess.start({
      OPENAI_API_KEY: 'sk-x',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      API_TOKEN,
    });
    return service;
  }

  it('log request lines with Authorization and X-Twilio-Signature redacted', async () => {
    const { baseUrl } = await startService();

    const listed = await fetch(`${baseUrl}/api/calls`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(listed.status).toBe(200);
    const signed = await postTwiml(baseUrl, { CallSid: testSid('CA') });
    expect(signed.status).toBe(200);
    const signature = 'c2lnbmF0dXJlLXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==';
    const refused = await postTwiml(baseUrl, { CallSid: testSid('CA') }, { signature });
    expect(refused.status).toBe(403);

    await waitUntil(
      () =>
        lines().filter((line) => (line.req?.url ?? line.request)?.includes('/api/')).length >= 3,
      'the three request lines',
    );
    const calls = lines().find((line) => line.req?.url === '/api/calls')!;
    expect(calls.req!.headers!.authorization).toBe('[redacted]');
    const twiml = lines().find((line) => line.req?.url === '/api/twiml')!;
    expect(twiml.req!.headers!['x-twilio-signature']).toBe('[redacted]');
    // The refusal is one short line, with no headers to leak.
    expect(lines().find((line) => line.request === 'POST /api/twiml')).toBeDefined();
    expect(service!.logs).not.toContain(API_TOKEN);
    expect(service!.logs).not.toContain(signature);
    expect(service!.logs).not.toContain(signature.replace(/=+$/, ''));
  }, 30000);

  it("keep the line of a stranger's request short, whatever its URL and headers", async () => {
    const { baseUrl } = await startService();
    const padding = 'a'.repeat(12_000);
    const headers = { 'x-padding': 'b'.repeat(3000), 'user-agent': 'c'.repeat(800) };
    // A public route (answered 200) and a refused one (401), each with a 12 KB URL.
    expect((await fetch(`${baseUrl}/console?${padding}`, { headers })).status).toBe(200);
    expect((await fetch(`${baseUrl}/api/calls?${padding}`, { headers })).status).toBe(401);

    const stranger = (line: RequestLine) =>
      (line.req?.url ?? line.request ?? '').includes('aaaaaaaaaa');
    await waitUntil(() => lines().filter(stranger).length === 2, 'both request lines');
    const written = service!.logs.split('\n').filter((line) => line.includes('aaaaaaaaaa'));
    expect(written).toHaveLength(2);
    for (const line of written) expect(line.length).toBeLessThan(2000);
  }, 30000);

  it('never log a console session cookie, sent or set', async () => {
    const { baseUrl } = await startService();
    const login = await fetch(`${baseUrl}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: API_TOKEN }),
    });
    expect(login.status).toBe(204);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    const sessionId = cookie.split('=')[1];
    expect(sessionId.length).toBeGreaterThan(20);

    const me = await fetch(`${baseUrl}/console/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);

    await waitUntil(
      () => lines().some((line) => line.req?.url === '/console/api/me'),
      'the request line of /console/api/me',
    );
    const read = lines().find((line) => line.req?.url === '/console/api/me')!;
    expect(read.req!.headers!.cookie).toBe('[redacted]');
    const set = lines().find((line) => line.req?.url === '/console/login')!;
    expect(set.res!.headers!['set-cookie']).toBe('[redacted]');
    expect(service!.logs).not.toContain(sessionId);
  }, 30000);
});
