import { jest } from '@jest/globals';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { openListen } from './support/listen-client.js';
import { TestRedis } from './support/redis-server.js';

// Listen-in in cluster mode, as far as it goes today: the instance carrying the call serves the
// listen socket; another instance says where the call is (421) instead of "unknown call".

jest.setTimeout(30_000);

const API_TOKEN = 'listen-cluster-token-0123456789ab';
const CLUSTER_SECRET = 'listen-cluster-e2e-secret-5b2d4f6a8c0e7f3a';
const AUTH = { authorization: `Bearer ${API_TOKEN}` };

describe('listen-in on a cluster', () => {
  let redis: TestRedis;
  let openai: FakeRealtimeServer;
  let a: RunningBridge;
  let b: RunningBridge;
  let call: FakeTwilioCall;

  beforeAll(async () => {
    redis = await TestRedis.start();
    openai = new FakeRealtimeServer();
    await openai.start();
    const env = (instance: string) => ({
      API_TOKEN,
      INSTANCE_ID: instance,
      REDIS_URL: redis.url,
      CLUSTER_SECRET,
      OPENAI_REALTIME_URL: openai.url,
    });
    a = await startBridge(env('listen-a'));
    b = await startBridge(env('listen-b'));
  });

  afterAll(async () => {
    call?.hangUp();
    await a?.close();
    await b?.close();
    await openai?.stop();
    await redis?.stop();
  });

  it('serves the listen socket on the owner, and names the owner elsewhere (421)', async () => {
    call = await FakeTwilioCall.dial(a.baseUrl);
    await openai.connection(0);
    const listed = async () =>
      (await (await fetch(`${b.baseUrl}/api/calls`, { headers: AUTH })).text()).includes(
        call.callSid,
      );
    const deadline = Date.now() + 5000;
    while (!(await listed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const url = (bridge: RunningBridge) =>
      `${bridge.baseUrl.replace('http', 'ws')}/api/calls/${call.callSid}/listen`;
    const elsewhere = await openListen(url(b), AUTH);
    expect(elsewhere.status).toBe(421);
    expect(elsewhere.body).toContain('listen-a');

    const here = await openListen(url(a), AUTH);
    expect(here.client).toBeDefined();
    await here.client!.waitFor('start');
    here.client!.close();
  });
});
