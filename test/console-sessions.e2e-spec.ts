import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { BridgePair } from './support/bridge-pair.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { openListen, type ListenClient } from './support/listen-client.js';
import { TestRedis } from './support/redis-server.js';
import { sleep, waitUntil } from './support/wait.js';

// Console sessions on a cluster (one login for every instance, one logout for all of them) and
// what a session opened (its event streams, its listen sockets) ending with it.

jest.setTimeout(30_000);

const API_TOKEN = 'console-sessions-token-0123456789ab';
const CLUSTER_SECRET = 'console-sessions-e2e-secret-5b2d4f6a8c0e7f3a';

async function login(bridge: RunningBridge): Promise<string> {
  const response = await fetch(`${bridge.baseUrl}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: API_TOKEN }),
  });
  expect(response.status).toBe(204);
  return response.headers.get('set-cookie')!.split(';')[0];
}

async function logout(bridge: RunningBridge, cookie: string): Promise<void> {
  const response = await fetch(`${bridge.baseUrl}/console/logout`, {
    method: 'POST',
    headers: { cookie },
  });
  expect(response.status).toBe(204);
}

async function me(bridge: RunningBridge, cookie: string): Promise<number> {
  return (await fetch(`${bridge.baseUrl}/console/api/me`, { headers: { cookie } })).status;
}

async function authenticated(bridge: RunningBridge, cookie: string): Promise<boolean> {
  const response = await fetch(`${bridge.baseUrl}/console/session`, { headers: { cookie } });
  return ((await response.json()) as { authenticated: boolean }).authenticated;
}

/** A console event stream, read as it comes; `ended` once the server ends it. */
async function follow(url: string, cookie: string) {
  const response = await fetch(url, { headers: { cookie }, signal: AbortSignal.timeout(25_000) });
  expect(response.status).toBe(200);
  const stream = { text: '', ended: false };
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) stream.text += decoder.decode(chunk as Uint8Array);
    stream.ended = true;
  })().catch(() => (stream.ended = true));
  await waitUntil(() => stream.text.includes('event:'), 'the first event');
  return stream;
}

async function listenAsConsole(bridge: RunningBridge, callSid: string, cookie: string) {
  const url = `${bridge.baseUrl.replace('http', 'ws')}/console/api/calls/${callSid}/listen`;
  const { client, status, body } = await openListen(url, { cookie, origin: bridge.baseUrl });
  if (!client) throw new Error(`listen refused: ${status} ${body}`);
  await client.waitFor('start');
  return client;
}

/** Polls an async `condition` until it holds. */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('console sessions on a cluster', () => {
  let cluster: BridgePair;
  let redis: TestRedis;
  let openai: FakeRealtimeServer;
  let a: RunningBridge;
  let b: RunningBridge;
  let call: FakeTwilioCall;
  const listeners: ListenClient[] = [];

  beforeAll(async () => {
    cluster = await BridgePair.start({
      name: 'sessions',
      apiToken: API_TOKEN,
      clusterSecret: CLUSTER_SECRET,
    });
    ({ redis, openai, a, b } = cluster);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  beforeEach(async () => {
    const index = openai.connections.length;
    call = await FakeTwilioCall.dial(a.baseUrl);
    await (await openai.connection(index)).waitFor('session.update');
  });

  afterEach(async () => {
    for (const listener of listeners.splice(0)) listener.close();
    call.hangUp();
    await call.waitForClose();
  });

  it('takes a login on A on B; a logout on B is refused on A and closes what it opened on A', async () => {
    const cookie = await login(a);
    expect(await me(b, cookie)).toBe(200);
    expect(await authenticated(b, cookie)).toBe(true);
    const calls = await follow(`${a.baseUrl}/console/api/live`, cookie);
    const followed = await follow(`${a.baseUrl}/console/api/calls/${call.callSid}/live`, cookie);
    const listener = await listenAsConsole(a, call.callSid, cookie);
    listeners.push(listener);

    await logout(b, cookie);

    expect(await me(a, cookie)).toBe(401);
    expect(await authenticated(a, cookie)).toBe(false);
    // The end reaches A over the bus: its streams end and its listen socket closes at once.
    await waitUntil(() => calls.ended && followed.ended, 'A to end the streams', 3000);
    expect(calls.text).toContain(': session ended');
    expect(await listener.waitForClose(3000)).toBe(1008);
    const status = (
      await openListen(
        `${a.baseUrl.replace('http', 'ws')}/console/api/calls/${call.callSid}/listen`,
        { cookie, origin: a.baseUrl },
      )
    ).status;
    expect(status).toBe(401);
  });

  it('closes a listen socket relayed from B to the call on A when the session logs out on A', async () => {
    const cookie = await login(a);
    const relayed = await listenAsConsole(b, call.callSid, cookie);
    listeners.push(relayed);

    await logout(a, cookie);

    expect(await relayed.waitForClose(3000)).toBe(1008);
  });

  it('refuses a takeover by a session that ended behind the instance’s back (its end never heard)', async () => {
    const cookie = await login(b);
    const listener = await listenAsConsole(a, call.callSid, cookie);
    listeners.push(listener);
    // The session's record goes from Redis with no message on the bus (as a lost one would).
    const admin = new Redis(redis.url);
    const [record] = await admin.keys('bridge:console-session:*');
    await admin.del(record);
    admin.disconnect();

    listener.send({ event: 'takeover' });

    const refused = await listener.waitFor('takeover');
    expect(refused).toEqual({ event: 'takeover', ok: false, reason: 'session ended' });
    expect(await listener.waitForClose()).toBe(1008);
  });

  it('keeps a session across a restart of the instance that made it', async () => {
    const cookie = await login(a);
    a = await cluster.restartA();
    await eventually(async () => (await me(a, cookie)) === 200, 'the session on the new A');
  });
});

describe('logging out of the console', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;
  let call: FakeTwilioCall;

  beforeAll(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({ API_TOKEN, OPENAI_REALTIME_URL: openai.url });
    call = await FakeTwilioCall.dial(bridge.baseUrl);
    await (await openai.connection(0)).waitFor('session.update');
  });

  afterAll(async () => {
    call?.hangUp();
    await bridge?.close();
    await openai?.stop();
  });

  it('ends the event streams and closes the listen socket the session opened, in other tabs too', async () => {
    const cookie = await login(bridge);
    const other = await login(bridge);
    const calls = await follow(`${bridge.baseUrl}/console/api/live`, cookie);
    const followed = await follow(
      `${bridge.baseUrl}/console/api/calls/${call.callSid}/live`,
      cookie,
    );
    const listener = await listenAsConsole(bridge, call.callSid, cookie);
    const othersListener = await listenAsConsole(bridge, call.callSid, other);
    const apiStream = await fetch(`${bridge.baseUrl}/console/api/live`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
      signal: AbortSignal.timeout(5_000),
    });

    await logout(bridge, cookie);

    await waitUntil(() => calls.ended && followed.ended, 'the streams to end', 2000);
    expect(followed.text).toContain(': session ended');
    expect(await listener.waitForClose(2000)).toBe(1008);
    // Another session's socket, and the API token's stream, are not this session's.
    await sleep(200);
    expect(othersListener.closeCode).toBeUndefined();
    expect(apiStream.status).toBe(200);
    othersListener.close();
    await apiStream.body?.cancel();
  });
});
