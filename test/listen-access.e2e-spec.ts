import { jest } from '@jest/globals';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, testSid } from './support/fake-twilio.js';
import { openListen } from './support/listen-client.js';
import { incomingCall, postSignedWebhook, sidebandOf } from './support/sip-webhooks.js';

// Who may open a listen socket, checked at the upgrade in the contract's order, each refusal an
// HTTP answer with no WebSocket: credentials 401 (the console's Origin 403), a malformed id 400,
// an unknown call 404, a SIP call 409.

jest.setTimeout(30_000);

const API_TOKEN = 'listen-access-token-0123456789abc';
const SECRET = `whsec_${Buffer.from('the e2e key of the listen access tests').toString('base64')}`;

describe('listen upgrade access', () => {
  let openai: FakeRealtimeServer;
  let calls: FakeOpenAICalls;
  let bridge: RunningBridge;
  let call: FakeTwilioCall;
  let cookie: string;
  let ws: string;

  beforeAll(async () => {
    openai = new FakeRealtimeServer();
    calls = new FakeOpenAICalls();
    await Promise.all([openai.start(), calls.start()]);
    bridge = await startBridge({
      API_TOKEN,
      OPENAI_REALTIME_URL: openai.url,
      OPENAI_WEBHOOK_SECRET: SECRET,
      OPENAI_API_BASE_URL: calls.url,
    });
    ws = bridge.baseUrl.replace('http', 'ws');
    call = await FakeTwilioCall.dial(bridge.baseUrl);
    await openai.connection(0);
    const login = await fetch(`${bridge.baseUrl}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: API_TOKEN }),
    });
    cookie = login.headers.get('set-cookie')!.split(';')[0];
  });

  afterAll(async () => {
    call?.hangUp();
    await bridge?.close();
    await Promise.all([openai?.stop(), calls?.stop()]);
  });

  const api = (callSid: string) => `${ws}/api/calls/${callSid}/listen`;
  const consoleUrl = (callSid: string) => `${ws}/console/api/calls/${callSid}/listen`;

  it('opens with the API token', async () => {
    const { client } = await openListen(api(call.callSid), {
      authorization: `Bearer ${API_TOKEN}`,
    });
    expect(client).toBeDefined();
    await client!.waitFor('start');
    client!.close();
  });

  it('answers 401 without credentials or with the wrong token, before looking at the id', async () => {
    expect((await openListen(api(call.callSid), {})).status).toBe(401);
    const wrong = { authorization: `Bearer ${API_TOKEN}x` };
    expect((await openListen(api(call.callSid), wrong)).status).toBe(401);
    expect((await openListen(api('not-a-sid'), {})).status).toBe(401);
    // The console's cookie is not the API's credential.
    expect((await openListen(api(call.callSid), { cookie })).status).toBe(401);
  });

  it('opens the console socket with the session cookie and the console’s own Origin', async () => {
    const { client } = await openListen(consoleUrl(call.callSid), {
      cookie,
      origin: bridge.baseUrl,
    });
    expect(client).toBeDefined();
    await client!.waitFor('start');
    client!.close();
  });

  it('answers the console socket 401 without a session, 403 with another Origin or none', async () => {
    const origin = bridge.baseUrl;
    expect((await openListen(consoleUrl(call.callSid), { origin })).status).toBe(401);
    const stale = 'bridge_console=not-a-session';
    expect((await openListen(consoleUrl(call.callSid), { cookie: stale, origin })).status).toBe(
      401,
    );
    const evil = { cookie, origin: 'https://evil.example' };
    expect((await openListen(consoleUrl(call.callSid), evil)).status).toBe(403);
    expect((await openListen(consoleUrl(call.callSid), { cookie })).status).toBe(403);
    const otherPort = { cookie, origin: bridge.baseUrl.replace(/:(\d+)$/, ':1') };
    expect((await openListen(consoleUrl(call.callSid), otherPort)).status).toBe(403);
  });

  it('answers 400 for a malformed id and 404 for an unknown call', async () => {
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const malformed = await openListen(api('CA123'), auth);
    expect(malformed.status).toBe(400);
    expect((await openListen(api(testSid('CA')), auth)).status).toBe(404);
    expect((await openListen(api('rtc_nosuchcall'), auth)).status).toBe(404);
  });

  it('answers 409 with the reason for a SIP call', async () => {
    const callId = 'rtc_listensip1';
    const response = await postSignedWebhook(
      bridge.baseUrl,
      SECRET,
      incomingCall(callId, { from: '+15550009999', to: '+15551230002' }),
    );
    expect(response.status).toBe(200);
    await sidebandOf(openai, callId);
    const refused = await openListen(api(callId), { authorization: `Bearer ${API_TOKEN}` });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatch(/media-stream calls.*SIP call's audio never passes through/);
  });
});

describe('listen upgrade without an API_TOKEN', () => {
  it('does not exist (404), like every authenticated route', async () => {
    const openai = new FakeRealtimeServer();
    await openai.start();
    const bridge = await startBridge({ OPENAI_REALTIME_URL: openai.url });
    try {
      const url = `${bridge.baseUrl.replace('http', 'ws')}/api/calls/${testSid('CA')}/listen`;
      expect((await openListen(url, { authorization: 'Bearer x' })).status).toBe(404);
    } finally {
      await bridge.close();
      await openai.stop();
    }
  });
});
