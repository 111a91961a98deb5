import { Webhook } from 'standardwebhooks';
import { startBridge, TEST_API_KEY, type RunningBridge } from './support/bridge.js';
import { CountingCredential, credentialModule } from './support/azure-credential.js';
import { CallEventLogModule, seenCallEvents as seenEvents } from './support/call-event-log.js';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { TEST_API_TOKEN, TEST_AZURE_OPENAI_API_KEY } from './support/secrets.js';
import { incomingCall, postSignedWebhook, sidebandOf } from './support/sip-webhooks.js';
import { waitUntil } from './support/wait.js';

// The SIP transport on Azure OpenAI (issue 29), as Microsoft documents it ("Use the GPT Realtime
// API via SIP", docs/sip.md): the resource's webhook signs as OpenAI's does; the bridge accepts,
// hangs up and transfers through `{endpoint}/openai/v1/realtime/calls/{call_id}/...` and runs the
// call over `wss://{resource}/openai/v1/realtime?call_id=`, with the resource key as `api-key`
// or an Entra ID token as Bearer. The fakes take only that shape (src/testing/azure-shape.ts).

const SECRET = `whsec_${Buffer.from('the e2e key of the Azure SIP tests').toString('base64')}`;
const DEPLOYMENT = 'voice-prod';
const TRANSFER_NUMBER = '+15559990000';
const OTHER_RESOURCE_KEY = '5e0c7a9b2d41f8e3a6b0c9d7e2f14a38';

const callFrom = (callId: string) =>
  incomingCall(callId, { from: '+15550001111', to: '+15551230002' });

describe('SIP transport on Azure OpenAI', () => {
  let calls: FakeOpenAICalls | undefined;
  let openai: FakeRealtimeServer | undefined;
  let bridge: RunningBridge | undefined;

  beforeEach(() => {
    seenEvents.length = 0;
  });

  afterEach(async () => {
    await bridge?.close();
    await Promise.all([calls?.stop(), openai?.stop()]);
    bridge = calls = openai = undefined;
  });

  /**
   * The calls-API fake is the resource endpoint (the bridge derives `{endpoint}/openai/v1` for
   * it); the Realtime fake is reached through an explicit OPENAI_REALTIME_URL, used as written.
   */
  async function startOnAzure(
    shape: { apiKey?: string; acceptsToken?: (token: string) => boolean },
    env: Record<string, string | undefined>,
    modules: Parameters<typeof startBridge>[1] = [],
  ) {
    calls = new FakeOpenAICalls({ deployment: DEPLOYMENT, ...shape });
    openai = new FakeRealtimeServer({ deployment: DEPLOYMENT, ...shape });
    await Promise.all([calls.start(), openai.start()]);
    bridge = await startBridge(
      {
        OPENAI_WEBHOOK_SECRET: SECRET,
        AZURE_OPENAI_ENDPOINT: calls.endpoint,
        OPENAI_REALTIME_URL: `${openai.azureEndpoint.replace('http:', 'ws:')}/openai/v1/realtime`,
        AZURE_OPENAI_DEPLOYMENT: DEPLOYMENT,
        OPENAI_API_KEY: undefined,
        API_TOKEN: TEST_API_TOKEN,
        TRANSFER_NUMBER,
        ...env,
      },
      [CallEventLogModule, ...modules],
    );
  }

  const api = (path: string, body?: unknown) =>
    fetch(`${bridge!.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_API_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  describe('with the resource key', () => {
    const startWithKey = (env: Record<string, string | undefined> = {}) =>
      startOnAzure(
        { apiKey: TEST_AZURE_OPENAI_API_KEY },
        {
          AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
          ...env,
        },
      );

    it("accepts a signed call through Azure's calls API with api-key, then opens the sideband on Azure's path", async () => {
      // Set, but an OpenAI key must travel to Azure neither.
      await startWithKey({ OPENAI_API_KEY: TEST_API_KEY });
      const response = await postSignedWebhook(bridge!.baseUrl, SECRET, callFrom('rtc_az1'));
      expect(response.status).toBe(200);

      const accept = await calls!.waitFor('accept', 'rtc_az1');
      expect(accept.path).toBe('/openai/v1/realtime/calls/rtc_az1/accept');
      expect(accept.apiKey).toBe(TEST_AZURE_OPENAI_API_KEY);
      expect(accept.authorization).toBeUndefined();
      // Azure's model names are deployment names.
      expect(accept.body).toMatchObject({ type: 'realtime', model: DEPLOYMENT });

      const sideband = await sidebandOf(openai!, 'rtc_az1');
      expect(sideband.url.pathname).toBe('/openai/v1/realtime');
      expect(sideband.url.searchParams.has('model')).toBe(false);
      expect(sideband.headers['api-key']).toBe(TEST_AZURE_OPENAI_API_KEY);
      expect(sideband.headers.authorization).toBeUndefined();

      expect(calls!.refusals).toEqual([]);
      expect(openai!.refusals).toEqual([]);
      const logs = bridge!.logs.lines.join('\n');
      expect(logs).not.toContain(TEST_AZURE_OPENAI_API_KEY);
      expect(logs).not.toContain(TEST_API_KEY);
    });

    it('refuses a webhook not signed with the secret, with no calls-API request', async () => {
      await startWithKey();
      const other = `whsec_${Buffer.from('not the webhook secret of Azure').toString('base64')}`;
      const response = await postSignedWebhook(bridge!.baseUrl, other, callFrom('rtc_az2'));
      expect(response.status).toBe(401);
      // The secret's own signature, as the independent implementation computes it, passes.
      const event = JSON.stringify(callFrom('rtc_az2'));
      const at = new Date();
      const signed = await fetch(`${bridge!.baseUrl}/api/openai/webhook`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_az2',
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': new Webhook(SECRET).sign('msg_az2', at, event),
        },
        body: event,
      });
      expect(signed.status).toBe(200);
      await calls!.waitFor('accept', 'rtc_az2');
      expect(calls!.requests).toHaveLength(1);
    });

    it("hangs up and transfers through Azure's calls API from the call-control API", async () => {
      await startWithKey();
      await postSignedWebhook(bridge!.baseUrl, SECRET, callFrom('rtc_azhang'));
      const hungUp = await sidebandOf(openai!, 'rtc_azhang');
      expect((await api('/api/calls/rtc_azhang/hangup')).status).toBe(200);
      const hangup = await calls!.waitFor('hangup', 'rtc_azhang');
      expect(hangup.path).toBe('/openai/v1/realtime/calls/rtc_azhang/hangup');
      expect(hangup.apiKey).toBe(TEST_AZURE_OPENAI_API_KEY);
      await hungUp.waitForClose();

      await postSignedWebhook(bridge!.baseUrl, SECRET, callFrom('rtc_azxfer'));
      await sidebandOf(openai!, 'rtc_azxfer');
      expect((await api('/api/calls/rtc_azxfer/transfer', { to: TRANSFER_NUMBER })).status).toBe(
        200,
      );
      const refer = await calls!.waitFor('refer', 'rtc_azxfer');
      expect(refer.path).toBe('/openai/v1/realtime/calls/rtc_azxfer/refer');
      expect(refer.body).toEqual({ target_uri: `tel:${TRANSFER_NUMBER}` });
      expect(refer.apiKey).toBe(TEST_AZURE_OPENAI_API_KEY);
      await waitUntil(
        () => seenEvents.some((e) => e.event === 'call.ended' && e.outcome === 'transferred'),
        'the transferred call to end',
      );
      expect(calls!.refusals).toEqual([]);
    });

    it('says in one line which Azure credential to check when the resource refuses the key', async () => {
      // Another key of some other resource: Azure answers 401.
      await startWithKey({ AZURE_OPENAI_API_KEY: OTHER_RESOURCE_KEY });
      await postSignedWebhook(bridge!.baseUrl, SECRET, callFrom('rtc_azbad'));
      await waitUntil(
        () => bridge!.logs.matching(/accept failed/).length > 0,
        'the accept to fail',
      );
      expect(bridge!.logs.matching(/accept failed/)[0]).toMatch(
        /accept rtc_azbad: HTTP 401 .*; check AZURE_OPENAI_API_KEY/,
      );
      expect(openai!.connections).toHaveLength(0);
      expect(bridge!.logs.lines.join('\n')).not.toContain(OTHER_RESOURCE_KEY);
    });
  });

  describe('with Microsoft Entra ID', () => {
    const startWithEntra = (credential: CountingCredential) =>
      startOnAzure({ acceptsToken: credential.accepts }, { AZURE_OPENAI_AUTH: 'entra' }, [
        credentialModule(credential),
      ]);

    it('sends a live token on every request and reopens the sideband with a fresh one after expiry', async () => {
      // Shorter-lived than the refresh margin: every request and connection asks for a new token.
      const credential = new CountingCredential(1000);
      await startWithEntra(credential);
      await postSignedWebhook(bridge!.baseUrl, SECRET, callFrom('rtc_azentra'));

      const accept = await calls!.waitFor('accept', 'rtc_azentra');
      expect(accept.path).toBe('/openai/v1/realtime/calls/rtc_azentra/accept');
      expect(accept.authorization).toMatch(/^Bearer entra-token-\d+$/);
      expect(accept.apiKey).toBeUndefined();
      const first = await sidebandOf(openai!, 'rtc_azentra');
      expect(first.headers.authorization).toMatch(/^Bearer entra-token-\d+$/);
      expect(first.headers['api-key']).toBeUndefined();

      // The sideband's token expires; then the socket drops and the bridge reopens it.
      const firstToken = first.headers.authorization!.slice('Bearer '.length);
      await waitUntil(() => !credential.accepts(firstToken), 'the first token to expire');
      first.socket.terminate();
      const second = await sidebandOf(openai!, 'rtc_azentra', 1);
      expect(second.headers.authorization).not.toBe(first.headers.authorization);

      // The hang-up, too, goes with a token Azure takes now (the fake refuses an expired one).
      expect((await api('/api/calls/rtc_azentra/hangup')).status).toBe(200);
      const hangup = await calls!.waitFor('hangup', 'rtc_azentra');
      expect(hangup.authorization).toMatch(/^Bearer entra-token-\d+$/);
      expect(calls!.refusals).toEqual([]);
      expect(openai!.refusals).toEqual([]);
      expect(new Set(credential.scopes)).toEqual(new Set(['https://ai.azure.com/.default']));
    });

    it('fails the call in one line, with no request to Azure, when no token can be had', async () => {
      const credential = new CountingCredential(60 * 60_000);
      credential.failWith = new Error('ManagedIdentityCredential: no identity endpoint');
      await startWithEntra(credential);
      await postSignedWebhook(bridge!.baseUrl, SECRET, callFrom('rtc_aznotoken'));
      await waitUntil(
        () => bridge!.logs.matching(/accept failed/).length > 0,
        'the accept to fail',
      );
      expect(bridge!.logs.matching(/accept failed/)[0]).toMatch(
        /could not get a Microsoft Entra ID token for Azure OpenAI \(ManagedIdentityCredential: no identity endpoint\)/,
      );
      expect(calls!.requests).toHaveLength(0);
      expect(openai!.connections).toHaveLength(0);
    });
  });
});
