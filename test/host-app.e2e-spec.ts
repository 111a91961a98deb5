import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Page } from 'playwright-core';
import { io, type Socket as IoSocket } from 'socket.io-client';
import WebSocket from 'ws';
import type { BridgeSettings } from 'twilio-realtime-bridge';
import { rawDataToString } from '../src/websocket/raw-data.js';
import { CallCounter, startHostApp, type HostAppOptions } from './fixtures/host-app.js';
import { frames20ms, mulawTone } from './support/audio.js';
import { launchChromium, openPage } from './support/browser.js';
import { TEST_API_KEY } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_ACCOUNT_SID,
  testSid,
} from './support/fake-twilio.js';
import { rawConnect, statusOf, type RawClient } from './support/raw-http.js';
import { randomTwilioAuthToken, TEST_API_TOKEN } from './support/secrets.js';
import { sleep, waitUntil } from './support/wait.js';

const AUTH_TOKEN = randomTwilioAuthToken();

/** Requests of a page that failed or were answered 4xx/5xx, as `METHOD url status`. */
function failedRequests(page: Page): string[] {
  const failed: string[] = [];
  page.on('requestfailed', (request) => failed.push(`${request.method()} ${request.url()} failed`));
  page.on('response', (response) => {
    if (response.status() >= 400) {
      failed.push(`${response.request().method()} ${response.url()} ${response.status()}`);
    }
  });
  return failed;
}

function settingsFor(openai: FakeRealtimeServer, rest?: FakeTwilioRest): BridgeSettings {
  // With a fake Twilio REST API, what placing calls and the console need of it.
  const account = rest
    ? { accountSid: TEST_ACCOUNT_SID, phoneNumber: '+15550009999', apiBaseUrl: rest.url }
    : { apiBaseUrl: 'http://127.0.0.1:9' };
  return {
    // OpenAI's REST API (the console checklist's key check): a closed loopback port.
    openai: { apiKey: TEST_API_KEY, realtimeUrl: openai.url, apiBaseUrl: 'http://127.0.0.1:9/v1' },
    twilio: { authToken: AUTH_TOKEN, ...account },
    ...(rest ? { api: { token: TEST_API_TOKEN } } : {}),
    audio: { inputFormat: 'g711_ulaw' },
    limits: { shutdownDrainS: 0 },
    history: { enabled: false },
  };
}

/** A WebSocket upgrade on `path`, sent as is; resolves with what came back once it closed. */
async function upgradeOn(baseUrl: string, path: string, extra = ''): Promise<RawClient> {
  return rawConnect(
    baseUrl,
    `GET ${path} HTTP/1.1\r\nHost: ${new URL(baseUrl).host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
      `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
  );
}

/** socket.io's round trip: `ping` with data, `pong` with the same data back. */
async function socketIoRoundTrip(baseUrl: string, transports: string[]): Promise<unknown> {
  const client: IoSocket = io(baseUrl, { transports, reconnection: false, forceNew: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve, reject) => {
      client.on('connect_error', reject);
      client.on('pong', resolve);
      client.on('connect', () => client.emit('ping', { n: 1 }));
      timer = setTimeout(() => reject(new Error('no pong within 5 s')), 5000);
    });
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

describe('a Nest application of its own, importing TwilioBridgeModule and calling nothing else', () => {
  let openai: FakeRealtimeServer;
  let app: INestApplication | undefined;
  let baseUrl: string;

  async function start(
    options: Omit<HostAppOptions, 'settings'>,
    rest?: FakeTwilioRest,
  ): Promise<void> {
    openai = new FakeRealtimeServer();
    await openai.start();
    app = await startHostApp({ ...options, settings: settingsFor(openai, rest) });
    baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  }

  async function dial(base = baseUrl, options: { playInRealTime?: boolean } = {}) {
    const index = openai.connections.length;
    const call = await FakeTwilioCall.dial(base, { authToken: AUTH_TOKEN, ...options });
    const upstream = await openai.connection(index);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await openai?.stop();
  });

  describe('with a socket.io gateway and its own EventEmitterModule.forRoot()', () => {
    beforeEach(() => start({ gateway: 'socket.io', ownEmitter: true }));

    it('serves a signed call end to end: TwiML, signed stream, audio both ways, barge-in', async () => {
      const { call, upstream } = await dial(baseUrl, { playInRealTime: true });

      const said = mulawTone(440, 200);
      for (const frame of frames20ms(said)) call.sendMedia(frame);
      await waitUntil(() => upstream.appendedAudio().length === said.length, 'caller audio');
      expect(upstream.appendedAudio().equals(said)).toBe(true);

      const chunk = mulawTone(300, 100);
      for (let i = 0; i < 3; i++) upstream.audioDelta('resp_1', 'item_1', chunk);
      await waitUntil(() => call.framesOf('media').length === 3, 'model audio at Twilio');
      expect(call.receivedAudio().equals(Buffer.concat([chunk, chunk, chunk]))).toBe(true);

      await sleep(100);
      upstream.send({
        type: 'input_audio_buffer.speech_started',
        audio_start_ms: 1000,
        item_id: 'item_user',
      });
      await call.waitFor('clear');
      expect(await upstream.waitFor('conversation.item.truncate')).toMatchObject({
        item_id: 'item_1',
      });
    });

    it('keeps the app’s socket.io gateway, its routes and its JSON parser on the same port', async () => {
      expect(await socketIoRoundTrip(baseUrl, ['websocket'])).toEqual({ n: 1 });
      // Long polling first, then the upgrade to a WebSocket on socket.io's own path.
      expect(await socketIoRoundTrip(baseUrl, ['polling', 'websocket'])).toEqual({ n: 1 });
      expect(await (await fetch(`${baseUrl}/orders`)).json()).toEqual(['order-1']);
      const created = await fetch(`${baseUrl}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'tea' }),
      });
      expect(await created.json()).toEqual({ created: 'tea' });
    });

    it('keeps a socket.io connection working while calls come and go', async () => {
      const client = io(baseUrl, { transports: ['websocket'], reconnection: false });
      const pongs: unknown[] = [];
      client.on('pong', (data: unknown) => pongs.push(data));
      await new Promise<void>((resolve) => client.on('connect', () => resolve()));
      try {
        const { call } = await dial();
        client.emit('ping', 'during a call');
        await waitUntil(() => pongs.length === 1, 'a pong during the call');
        call.hangUp();
        await sleep(100);
        client.emit('ping', 'after it');
        await waitUntil(() => pongs.length === 2, 'a pong after the call');
        expect(pongs).toEqual(['during a call', 'after it']);
        expect(client.connected).toBe(true);
      } finally {
        client.close();
      }
    });

    it('delivers call events to the app’s @OnEvent handlers exactly once, through its one EventEmitter2', async () => {
      const { call } = await dial();
      const counter = app!.get(CallCounter);
      await waitUntil(() => counter.started.length === 1, 'call.started');
      call.stop();
      await waitUntil(() => counter.ended.length === 1, 'call.ended');
      await sleep(200);
      expect(counter.started).toEqual([call.callSid]);
      expect(counter.ended).toEqual([call.callSid]);
      // One emitter in the application: the one it imported, which the bridge's events reach.
      const emitters = app!.get(EventEmitter2, { each: true });
      expect(emitters).toHaveLength(1);
      const seen: string[] = [];
      emitters[0].on('call.ended', (event: { callSid: string }) => seen.push(event.callSid));
      const second = await dial();
      second.call.stop();
      await waitUntil(() => seen.length === 1, 'the second call.ended on app.get(EventEmitter2)');
      expect(seen).toEqual([second.call.callSid]);
    });

    it('passes upgrades on other paths to the app’s listeners, even one added after listen', async () => {
      const seenPaths: string[] = [];
      const server = app!.getHttpServer() as Server;
      server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
        seenPaths.push(req.url ?? '');
        if (req.url === '/late')
          socket.end('HTTP/1.1 418 I am a teapot\r\nConnection: close\r\n\r\n');
      });

      const late = await upgradeOn(baseUrl, '/late');
      await late.closed;
      expect(statusOf(late)).toBe(418);

      // The bridge's own path is the bridge's alone: answered (a refusal here), never seen by
      // the app's listeners, and well within engine.io's 1 s.
      const sentAt = Date.now();
      const refused = await upgradeOn(baseUrl, '/media-stream', 'X-Twilio-Signature: wrong\r\n');
      await waitUntil(() => statusOf(refused) !== 0, 'the bridge’s answer');
      expect(statusOf(refused)).toBe(403);
      expect(Date.now() - sentAt).toBeLessThan(1000);
      expect(seenPaths).toEqual(['/late']);
    });
  });

  describe('with a socket.io gateway and no EventEmitterModule of its own', () => {
    beforeEach(() => start({ gateway: 'socket.io', ownEmitter: false }));

    it('still delivers call events to its @OnEvent handlers, exactly once', async () => {
      const { call } = await dial();
      const counter = app!.get(CallCounter);
      await waitUntil(() => counter.started.length === 1, 'call.started');
      call.stop();
      await waitUntil(() => counter.ended.length === 1, 'call.ended');
      await sleep(200);
      expect(counter.started).toEqual([call.callSid]);
      expect(counter.ended).toEqual([call.callSid]);
      // The bridge brought no emitter into the application's container.
      expect(() => app!.get(EventEmitter2)).toThrow();
      expect(await socketIoRoundTrip(baseUrl, ['websocket'])).toEqual({ n: 1 });
    });
  });

  describe('with a ws gateway (Nest’s ws adapter, installed by the app)', () => {
    beforeEach(() => start({ gateway: 'ws', ownEmitter: true }));

    it('serves the app’s ws gateway and a signed call side by side; other paths reach the app’s adapter', async () => {
      const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/host-ws`);
      const reply = new Promise<unknown>((resolve) =>
        socket.on('message', (data) => resolve(JSON.parse(rawDataToString(data)))),
      );
      await new Promise((resolve) => socket.on('open', resolve));
      socket.send(JSON.stringify({ event: 'ping', data: 'hi' }));
      expect(await reply).toEqual({ event: 'pong', data: 'hi' });
      socket.close();

      const { call, upstream } = await dial();
      const said = mulawTone(440, 100);
      for (const frame of frames20ms(said)) call.sendMedia(frame);
      await waitUntil(() => upstream.appendedAudio().length === said.length, 'caller audio');

      // The ws adapter destroys an upgrade it does not serve, writing nothing: it saw this one.
      const unknown = await upgradeOn(baseUrl, '/nobody-here');
      await unknown.closed;
      expect(unknown.received()).toBe('');
    });
  });

  describe('mounted under a global prefix', () => {
    let rest: FakeTwilioRest;
    beforeEach(async () => {
      rest = new FakeTwilioRest();
      await rest.start();
      await start({ gateway: 'socket.io', ownEmitter: true, globalPrefix: 'voice' }, rest);
    });
    afterEach(() => rest.stop());

    it('gives Twilio the real paths, serves the stream there and checks signatures against them', async () => {
      const fields = { CallSid: testSid('CA'), From: '+15550001111', AccountSid: TEST_ACCOUNT_SID };
      const answer = await postTwiml(`${baseUrl}/voice`, fields, { authToken: AUTH_TOKEN });
      expect(answer.status).toBe(200);
      const twiml = await answer.text();
      const port = new URL(baseUrl).port;
      expect(parseStreamTwiml(twiml).url).toBe(`ws://127.0.0.1:${port}/voice/media-stream`);
      expect(twiml).toContain(`statusCallback="http://127.0.0.1:${port}/voice/api/stream-status"`);
      // Signed for the unprefixed path, the webhook is refused: the URL Twilio called counts.
      const wrong = await postTwiml(`${baseUrl}/voice`, fields, {
        authToken: AUTH_TOKEN,
        signature: (await import('twilio')).default.getExpectedTwilioSignature(
          AUTH_TOKEN,
          `${baseUrl}/api/twiml`,
          fields,
        ),
      });
      expect(wrong.status).toBe(403);

      const { call, upstream } = await dial(`${baseUrl}/voice`);
      const said = mulawTone(440, 100);
      for (const frame of frames20ms(said)) call.sendMedia(frame);
      await waitUntil(() => upstream.appendedAudio().length === said.length, 'caller audio');
      expect(await (await fetch(`${baseUrl}/voice/orders`)).json()).toEqual(['order-1']);
    });

    it('gives Twilio the prefixed webhook for an outbound call and in the console checklist', async () => {
      const auth = { authorization: `Bearer ${TEST_API_TOKEN}` };
      const placed = await fetch(`${baseUrl}/voice/api/calls`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+15551112222' }),
      });
      expect(placed.status).toBe(201);
      const created = await rest.waitForRequest((request) => request.path.endsWith('/Calls.json'));
      expect(created.form.Url).toBe(`${baseUrl}/voice/api/twiml`);

      const checklist = await fetch(`${baseUrl}/voice/console/api/checklist`, { headers: auth });
      expect(checklist.status).toBe(200);
      expect(((await checklist.json()) as { webhookUrl: string }).webhookUrl).toBe(
        `${baseUrl}/voice/api/twiml`,
      );
    });

    it('serves the console there: the page, its data, its session cookie, its streams and listen socket', async () => {
      const browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
      let call: FakeTwilioCall | undefined;
      try {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const { page, errors } = await openPage(context);
        const failed = failedRequests(page);
        const served = await page.goto(`${baseUrl}/voice/console`);
        expect(served?.status()).toBe(200);
        expect(await served?.headerValue('content-security-policy')).toContain("script-src 'self'");
        await page.locator('[data-testid="token"]').fill(TEST_API_TOKEN);
        await page.locator('[data-action="login"]').click();
        await page.getByRole('heading', { name: 'Live calls' }).waitFor();
        // The checklist came through the mounted data routes (Twilio: the fake REST API).
        await page.locator('[data-check="twilio"][data-state="ok"]').waitFor({ timeout: 10_000 });
        const cookies = await context.cookies();
        expect(cookies.map(({ name, path }) => ({ name, path }))).toEqual([
          { name: 'bridge_console', path: '/voice/console' },
        ]);

        // A live call: pushed on the mounted event stream, followed, and listened to.
        ({ call } = await dial(`${baseUrl}/voice`));
        await page.locator(`tr[data-call-sid="${call.callSid}"]`).click();
        await page.locator('[data-testid="call-view"]').waitFor();
        await page.locator('[data-action="listen"]').click();
        await page.locator('[data-testid="listen-level-caller"]').waitFor();
        expect(failed).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        call?.hangUp();
        await browser.close();
      }
    }, 60_000);
  });

  describe('mounted under a RouterModule path', () => {
    let rest: FakeTwilioRest;
    beforeEach(async () => {
      rest = new FakeTwilioRest();
      await rest.start();
      await start({ gateway: 'socket.io', ownEmitter: true, routerPath: 'phone' }, rest);
    });
    afterEach(() => rest.stop());

    it('serves the webhook, the TwiML stream URL and the stream under that path', async () => {
      expect(
        (await postTwiml(baseUrl, { CallSid: testSid('CA') }, { authToken: AUTH_TOKEN })).status,
      ).toBe(404);
      const { call, upstream } = await dial(`${baseUrl}/phone`);
      expect(call.socket.url).toMatch(/\/phone\/media-stream$/);
      const said = mulawTone(440, 100);
      for (const frame of frames20ms(said)) call.sendMedia(frame);
      await waitUntil(() => upstream.appendedAudio().length === said.length, 'caller audio');
      // The application's own routes keep their paths.
      expect(await (await fetch(`${baseUrl}/orders`)).json()).toEqual(['order-1']);
    });

    it('serves the console under that path: its files, its headers, its session cookie', async () => {
      const page = await fetch(`${baseUrl}/phone/console`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('src="/phone/console/assets/app.js"');
      expect((await fetch(`${baseUrl}/phone/console/assets/app.js`)).status).toBe(200);
      const login = await fetch(`${baseUrl}/phone/console/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: TEST_API_TOKEN }),
      });
      expect(login.status).toBe(204);
      expect(login.headers.get('set-cookie')).toContain('; Path=/phone/console;');
      const session = login.headers.get('set-cookie')!.split(';')[0];
      const calls = await fetch(`${baseUrl}/phone/console/api/calls`, {
        headers: { cookie: session },
      });
      expect(calls.status).toBe(200);
      expect(calls.headers.get('cache-control')).toBe('no-store');
    });
  });
});
