import { jest } from '@jest/globals';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { TestRedis } from './support/redis-server.js';
import { sleep } from './support/wait.js';

// Console sessions on a cluster: one login for every instance, one logout for all of them.

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

/** Polls an async `condition` until it holds. */
async function eventually(condition: () => Promise<boolean>, what: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('console sessions on a cluster', () => {
  let redis: TestRedis;
  let a: RunningBridge;
  let b: RunningBridge;
  const env = (instance: string) => ({
    API_TOKEN,
    INSTANCE_ID: instance,
    REDIS_URL: redis.url,
    CLUSTER_SECRET,
  });

  beforeAll(async () => {
    redis = await TestRedis.start();
    a = await startBridge(env('sessions-a'));
    b = await startBridge(env('sessions-b'));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.destroy();
  });

  it('takes a login on A on B, and refuses on A a session logged out on B', async () => {
    const cookie = await login(a);
    expect(await me(b, cookie)).toBe(200);
    expect(await authenticated(b, cookie)).toBe(true);

    await logout(b, cookie);

    expect(await me(a, cookie)).toBe(401);
    expect(await authenticated(a, cookie)).toBe(false);
  });

  it('keeps a session across a restart of the instance that made it', async () => {
    const cookie = await login(a);
    await a.close();
    a = await startBridge(env('sessions-a'));
    await eventually(async () => (await me(a, cookie)) === 200, 'the session on the new A');
  });
});
