import { jest } from '@jest/globals';
import { REFUSAL_LOG_BURST, REFUSAL_LOG_LINES_PER_S } from '../src/logging/refusal-log.js';
import { LOGIN_MAX_FAILURES } from '../src/console/console.constants.js';
import { TEST_AUTH_TOKEN, testSid } from './support/fake-twilio.js';
import { rawConnect, rawRequest, type RawClient } from './support/raw-http.js';
import { ServiceProcess } from './support/service-process.js';
import { waitUntil } from './support/wait.js';

// Issue 24, findings 5, 7 and 8, against the built service (`node dist/main.js`): the login
// throttle behind a proxy, what refused requests leave in the log, slow and oversized requests.

jest.setTimeout(60_000);

const API_TOKEN = 'hardening-http-api-token-5d1e07c2';
const WEBHOOK_SECRET = `whsec_${Buffer.from('the key of the HTTP hardening tests').toString('base64')}`;
const BASE_ENV = {
  OPENAI_API_KEY: 'sk-x',
  TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
  API_TOKEN,
  OPENAI_WEBHOOK_SECRET: WEBHOOK_SECRET,
};

/** Resolves true once the server has closed the connection, false if it is still open at `ms`. */
async function closedWithin(client: RawClient, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const open = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const closed = await Promise.race([client.closed.then(() => true as const), open]);
  clearTimeout(timer);
  if (!closed) client.socket.destroy();
  return closed;
}

function post(path: string, headers: Record<string, string>, body: string): string {
  const lines = Object.entries({ host: 'bridge.test', ...headers }).map(([k, v]) => `${k}: ${v}`);
  return [
    `POST ${path} HTTP/1.1`,
    ...lines,
    `content-length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

describe('HTTP hardening (the built service)', () => {
  let service: ServiceProcess | undefined;

  afterEach(async () => {
    await service?.kill();
    service = undefined;
  });

  async function start(env: Record<string, string> = {}): Promise<ServiceProcess> {
    service = await ServiceProcess.start({ ...BASE_ENV, ...env });
    return service;
  }

  describe('the console login throttle behind one proxy (TRUST_PROXY=true)', () => {
    const login = (baseUrl: string, token: string, forwardedFor?: string) =>
      fetch(`${baseUrl}/console/login`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
        },
        body: JSON.stringify({ token }),
      });

    it('counts failures by the rightmost X-Forwarded-For entry, so rotating the others does not get past it', async () => {
      const { baseUrl } = await start({ TRUST_PROXY: 'true' });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        statuses.push((await login(baseUrl, `wrong-${i}`, `10.0.${i}.1, 198.51.100.7`)).status);
      }
      expect(statuses.slice(0, LOGIN_MAX_FAILURES)).toEqual(Array(LOGIN_MAX_FAILURES).fill(401));
      expect(statuses.slice(LOGIN_MAX_FAILURES)).toEqual(Array(20 - LOGIN_MAX_FAILURES).fill(429));
      // Another client behind the same proxy is counted apart.
      expect((await login(baseUrl, 'wrong', '198.51.100.8')).status).toBe(401);
    });

    it('never locks out the right token: not by a spoofed victim address, not by failures at its own', async () => {
      const { baseUrl } = await start({ TRUST_PROXY: 'true' });
      const victim = '203.0.113.9';
      const attacker = '198.51.100.7';
      // The attacker names the victim as the client; its proxy appends the attacker's address.
      for (let i = 0; i < 20; i++) await login(baseUrl, `wrong-${i}`, `${victim}, ${attacker}`);
      // Someone else behind the victim's own address fails too.
      for (let i = 0; i < 20; i++) await login(baseUrl, `wrong-${i}`, victim);
      expect((await login(baseUrl, 'wrong', victim)).status).toBe(429);

      const asVictim = await login(baseUrl, API_TOKEN, victim);
      expect(asVictim.status).toBe(204);
      expect(asVictim.headers.get('set-cookie')).toMatch(/^bridge_console=/);
      expect((await login(baseUrl, API_TOKEN, attacker)).status).toBe(204);
      expect((await login(baseUrl, API_TOKEN)).status).toBe(204);
    });
  });

  describe('logs', () => {
    it('never write an API token sent as ?token=, ?api_token= or ?access_token=', async () => {
      const { baseUrl } = await start();
      for (const name of ['token', 'api_token', 'ACCESS_TOKEN']) {
        expect((await fetch(`${baseUrl}/api/calls?${name}=${API_TOKEN}`)).status).toBe(401);
        const twiml = await fetch(`${baseUrl}/api/twiml?${name}=${API_TOKEN}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `CallSid=${testSid('CA')}`,
        });
        expect(twiml.status).toBe(403);
      }
      const accepted = await fetch(`${baseUrl}/api/calls?token=${API_TOKEN}`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(accepted.status).toBe(200);
      await waitUntil(
        () =>
          service!.jsonLines().filter((line) => /token=\[redacted\]/i.test(JSON.stringify(line)))
            .length >= 7,
        'the request lines',
      );
      expect(service!.logs).not.toContain(API_TOKEN);
    });

    it(`write each refusal in one short line, through the throttle (${REFUSAL_LOG_LINES_PER_S}/s, burst ${REFUSAL_LOG_BURST})`, async () => {
      const { baseUrl } = await start();
      const startedAt = Date.now();
      const before = service!.logs.length;
      for (let i = 0; i < 500; i++) {
        const refused = await fetch(`${baseUrl}/api/calls?token=wrong`, {
          headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36' },
        });
        expect(refused.status).toBe(401);
      }
      const elapsedS = (Date.now() - startedAt) / 1000;
      const written = service!.logs.slice(before).split('\n').filter(Boolean);
      for (const line of written) expect(line.length).toBeLessThan(400);
      // Two throttles see these: the guard's line and the request line.
      const bound = 2 * (REFUSAL_LOG_BURST + Math.ceil(REFUSAL_LOG_LINES_PER_S * elapsedS) + 1);
      expect(written.length).toBeLessThanOrEqual(bound);
      expect(written.length).toBeLessThan(500);
    });
  });

  describe('slow and oversized requests', () => {
    it('cuts a request whose body trickles in at HTTP_REQUEST_TIMEOUT_MS: 408, connection closed', async () => {
      const { baseUrl } = await start({
        HTTP_REQUEST_TIMEOUT_MS: '2000',
        HTTP_HEADERS_TIMEOUT_MS: '1000',
      });
      const startedAt = Date.now();
      const client = await rawConnect(
        baseUrl,
        `POST /api/openai/webhook HTTP/1.1\r\nHost: bridge.test\r\ncontent-type: application/json\r\n` +
          `content-length: 1000\r\n\r\n{`,
      );
      const trickle = setInterval(() => client.socket.write(' '), 100);
      try {
        expect(await closedWithin(client, 8000)).toBe(true);
      } finally {
        clearInterval(trickle);
      }
      // Node checks once a second (HTTP_TIMEOUT_CHECK_INTERVAL_MS) for requests past their time.
      expect(Date.now() - startedAt).toBeLessThan(2000 + 2500);
      expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
    });

    it('answers a 50 MB body on /api/twiml with 413 at once and closes the connection, reading none of it', async () => {
      const { baseUrl } = await start();
      const client = await rawConnect(
        baseUrl,
        `POST /api/twiml HTTP/1.1\r\nHost: bridge.test\r\nconnection: keep-alive\r\n` +
          `content-type: application/x-www-form-urlencoded\r\ncontent-length: ${50 * 1024 * 1024}\r\n\r\n` +
          'a'.repeat(64 * 1024),
      );
      expect(await closedWithin(client, 5000)).toBe(true);
      expect(client.received()).toMatch(/^HTTP\/1\.1 413/);
      expect(client.received()).toMatch(/\r\nconnection: close\r\n/i);
    });

    it('cuts a chunked body (no length declared) as soon as it passes the limit', async () => {
      const { baseUrl } = await start();
      const piece = 'a'.repeat(16 * 1024);
      // 160 KiB of chunks, over the 100 KiB bound, and never the closing chunk: without the
      // count the parser would wait for the body's end until HTTP_REQUEST_TIMEOUT_MS.
      const client = await rawConnect(
        baseUrl,
        `POST /api/twiml HTTP/1.1\r\nHost: bridge.test\r\nconnection: keep-alive\r\n` +
          `content-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n` +
          `${piece.length.toString(16)}\r\n${piece}\r\n`.repeat(10),
      );
      expect(await closedWithin(client, 5000)).toBe(true);
      // The answer may be lost to the reset of a socket closed with unread bytes; if it came, it is 413.
      const answer = client.received();
      expect(answer === '' || answer.startsWith('HTTP/1.1 413')).toBe(true);
      // The body bound and the webhook's own reader both count it: one answer, and the process
      // (which a crash would also have closed the socket for) still serves.
      expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
      expect(service!.exited).toBe(false);
      expect(service!.logs).not.toContain('ERR_HTTP_HEADERS_SENT');
    });

    it.each([
      [
        '/api/calls (no token)',
        '/api/calls',
        { 'content-type': 'application/json' },
        '{"to":"+15550001111"}',
        401,
      ],
      [
        '/api/twiml (no signature)',
        '/api/twiml',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'CallSid=CA00',
        403,
      ],
      [
        'the SIP webhook (bad signature)',
        '/api/openai/webhook',
        {
          'content-type': 'application/json',
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
          'webhook-signature': 'v1,AAAA',
        },
        '{}',
        401,
      ],
      [
        '/console/login (form-encoded)',
        '/console/login',
        { 'content-type': 'application/x-www-form-urlencoded' },
        'token=x',
        415,
      ],
    ])(
      'closes a kept-alive connection after a refusal on %s',
      async (_name, path, headers, body, status) => {
        const { baseUrl } = await start();
        const client = await rawConnect(
          baseUrl,
          post(path, { connection: 'keep-alive', ...headers }, body),
        );
        expect(await closedWithin(client, 3000)).toBe(true);
        expect(client.received()).toMatch(new RegExp(`^HTTP/1\\.1 ${status}`));
        expect(client.received()).toMatch(/\r\nconnection: close\r\n/i);
      },
    );
  });

  describe('requests a stranger shapes to cost us', () => {
    it('reads a webhook form of one name repeated ~50,000 times at once, the process still serving', async () => {
      const { baseUrl } = await start();
      // 100 KiB of `a&a&...`: a list copied on every repeat held the event loop for ~100 s.
      const body = Array(50_000).fill('a').join('&');
      for (const path of ['/api/twiml', '/api/stream-status']) {
        const startedAt = Date.now();
        const refused = await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        expect([path, refused.status]).toEqual([path, 403]);
        expect(Date.now() - startedAt).toBeLessThan(10_000);
      }
      expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
    });

    it('writes no error for a client that hangs up mid-body', async () => {
      const { baseUrl } = await start();
      const routes: Array<[string, string]> = [
        ['/api/twiml', 'application/x-www-form-urlencoded'],
        ['/api/calls', 'application/json'],
        ['/api/openai/webhook', 'application/json'],
      ];
      for (const [path, type] of routes) {
        const clients = await Promise.all(
          Array.from({ length: 10 }, () =>
            rawConnect(
              baseUrl,
              `POST ${path} HTTP/1.1\r\nhost: bridge.test\r\ncontent-type: ${type}\r\n` +
                `content-length: 100\r\n\r\n{"a":`,
            ),
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        for (const client of clients) client.socket.destroy();
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
      expect(service!.jsonLines().filter((line) => Number(line.level) >= 50)).toEqual([]);
    });

    it('answers 4xx, never 500, to a request target or Host that names no URL', async () => {
      const { baseUrl } = await start();
      const { host } = new URL(baseUrl);
      // An absolute-form target (a proxy request; Twilio never sends one) with a signature.
      for (const path of ['/api/twiml', '/api/stream-status']) {
        const absolute = await rawRequest(baseUrl, {
          method: 'POST',
          path: `http://elsewhere.test${path}`,
          headers: {
            host,
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': 'c2lnbmF0dXJl',
          },
          body: `CallSid=${testSid('CA')}`,
        });
        expect([path, absolute.status]).toEqual([path, 403]);
      }
      // The console's cookie routes read the Host to decide on `Secure`.
      const logout = await rawRequest(baseUrl, {
        method: 'POST',
        path: '/console/logout',
        headers: { host: 'a_b', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(logout.status).toBe(204);
      const login = await rawRequest(baseUrl, {
        method: 'POST',
        path: '/console/login',
        headers: { host: 'a_b', 'content-type': 'application/json' },
        body: JSON.stringify({ token: API_TOKEN }),
      });
      expect(login.status).toBe(204);
      expect(service!.jsonLines().filter((line) => Number(line.level) >= 50)).toEqual([]);
    });
  });

  describe('the console takes JSON only on its login and mutation routes (CSRF)', () => {
    const CROSS_SITE_TYPES = [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ];

    it('refuses a login that is not JSON, even with the right token (415, no cookie)', async () => {
      const { baseUrl } = await start();
      const bodies: Record<string, string> = {
        'application/x-www-form-urlencoded': `token=${API_TOKEN}`,
        'text/plain': JSON.stringify({ token: API_TOKEN }),
        'multipart/form-data; boundary=x': `--x\r\nContent-Disposition: form-data; name="token"\r\n\r\n${API_TOKEN}\r\n--x--\r\n`,
      };
      for (const type of CROSS_SITE_TYPES) {
        const response = await fetch(`${baseUrl}/console/login`, {
          method: 'POST',
          headers: { 'content-type': type },
          body: bodies[type],
        });
        expect([type, response.status]).toEqual([type, 415]);
        expect(response.headers.get('set-cookie')).toBeNull();
      }
    });

    it('refuses a hang-up, transfer or number change that is not JSON, even with a session (415)', async () => {
      const { baseUrl } = await start({ TRANSFER_ALLOWED_NUMBERS: '+15550009999' });
      const session = await fetch(`${baseUrl}/console/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: API_TOKEN }),
      });
      const cookie = session.headers.get('set-cookie')!.split(';')[0];
      const callSid = testSid('CA');
      const routes: Array<[string, string]> = [
        [`/console/api/calls/${callSid}/hangup`, '{}'],
        [`/console/api/calls/${callSid}/transfer`, 'to=%2B15550009999'],
        ['/console/api/numbers/PN00000000000000000000000000000001/point-here', '{}'],
      ];
      for (const [path, body] of routes) {
        for (const type of CROSS_SITE_TYPES) {
          const response = await fetch(`${baseUrl}${path}`, {
            method: 'POST',
            headers: { 'content-type': type, cookie },
            body,
          });
          expect([path, type, response.status]).toEqual([path, type, 415]);
        }
      }
    });
  });
});
