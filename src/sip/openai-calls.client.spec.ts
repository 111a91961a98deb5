import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OpenAIConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { OpenAICallsClient, OpenAICallsApiError } from './openai-calls.client.js';

/** A loopback calls API answering each request with the next scripted status (then 200). */
class ScriptedApi {
  readonly seen: Array<{ path: string; body: string; authorization?: string }> = [];
  statuses: number[] = [];
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.seen.push({
          path: req.url ?? '',
          body: Buffer.concat(chunks).toString(),
          authorization: req.headers.authorization,
        });
        res.writeHead(this.statuses.shift() ?? 200);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const clientFor = (apiBaseUrl: string) =>
  new OpenAICallsClient({ apiKey: new Secret('sk-unit'), apiBaseUrl } as OpenAIConfig);

describe('OpenAICallsClient', () => {
  let api: ScriptedApi;
  let client: OpenAICallsClient;

  beforeEach(async () => {
    api = new ScriptedApi();
    client = clientFor(await api.start());
  });
  afterEach(() => api.stop());

  it('posts each action to its path with Bearer auth and the documented body', async () => {
    await client.accept('rtc_1', { type: 'realtime' });
    await client.reject('rtc_1', 486);
    await client.refer('rtc_1', 'tel:+15551230003');
    await client.hangup('rtc_1');
    expect(api.seen.map((r) => [r.path, r.body])).toEqual([
      ['/v1/realtime/calls/rtc_1/accept', '{"type":"realtime"}'],
      ['/v1/realtime/calls/rtc_1/reject', '{"status_code":486}'],
      ['/v1/realtime/calls/rtc_1/refer', '{"target_uri":"tel:+15551230003"}'],
      ['/v1/realtime/calls/rtc_1/hangup', ''],
    ]);
    expect(api.seen.every((r) => r.authorization === 'Bearer sk-unit')).toBe(true);
  });

  it('retries a request OpenAI did not take (429, 503), at most three attempts', async () => {
    api.statuses = [503, 429];
    await client.accept('rtc_2', { type: 'realtime' });
    expect(api.seen).toHaveLength(3);

    api.seen.length = 0;
    api.statuses = [503, 503, 503, 503];
    await expect(client.hangup('rtc_2')).rejects.toMatchObject({ status: 503 });
    expect(api.seen).toHaveLength(3);
  });

  it('repeats a hang-up after a 500, but never a REFER or an accept OpenAI may have acted on', async () => {
    api.statuses = [500];
    await client.hangup('rtc_3');
    expect(api.seen).toHaveLength(2);

    api.seen.length = 0;
    api.statuses = [500];
    await expect(client.refer('rtc_3', 'tel:+15551230003')).rejects.toBeInstanceOf(
      OpenAICallsApiError,
    );
    api.statuses = [502];
    await expect(client.accept('rtc_3', { type: 'realtime' })).rejects.toMatchObject({
      status: 502,
    });
    expect(api.seen).toHaveLength(2);
  });

  it('does not retry a refusal (4xx) and says what OpenAI answered', async () => {
    api.statuses = [404];
    await expect(client.accept('rtc_4', { type: 'realtime' })).rejects.toThrow(
      /accept rtc_4: HTTP 404/,
    );
    expect(api.seen).toHaveLength(1);
  });

  it('gives up on a refused connection (never sent, so retried) after its bounded attempts', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const started = Date.now();
    await expect(
      clientFor(`http://127.0.0.1:${port}/v1`).refer('rtc_5', 'tel:+15551230003'),
    ).rejects.toThrow(/ECONNREFUSED/);
    // Three attempts: at once, after 250 ms, after 750 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('never repeats the API key in an error, even when the server echoes it', async () => {
    const echoing = createServer((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `bad key ${req.headers.authorization}` } }));
    });
    await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
    const { port } = echoing.address() as AddressInfo;
    try {
      const error = await clientFor(`http://127.0.0.1:${port}/v1`)
        .hangup('rtc_6')
        .catch((e: Error) => e);
      expect(String(error)).toContain('HTTP 401');
      expect(String(error)).not.toContain('sk-unit');
    } finally {
      await new Promise<void>((resolve) => echoing.close(() => resolve()));
    }
  });

  it('refuses a malformed call id without a request', async () => {
    await expect(client.hangup('rtc_1/../../files')).rejects.toThrow(/malformed/);
    expect(api.seen).toHaveLength(0);
  });
});
