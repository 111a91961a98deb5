import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import {
  CALL_SETTINGS_RESOLVER,
  type CallDescription,
  type CallSettingsChoice,
  type CallSettingsResolver,
} from 'twilio-realtime-bridge';
import { frames20ms, mulawTone } from './support/audio.js';
import { CountingCredential, credentialModule } from './support/azure-credential.js';
import { startBridge, TEST_API_KEY, type RunningBridge } from './support/bridge.js';
import { FakeOpenAIRest } from './support/fake-openai-rest.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { TEST_API_TOKEN, TEST_AZURE_OPENAI_API_KEY } from './support/secrets.js';
import { ServiceProcess } from './support/service-process.js';
import { waitUntil } from './support/wait.js';

// Azure OpenAI as a first-class provider (issue 29): the bridge talks to fakes that accept only
// Azure's shape of the GA protocol (FakeRealtimeServer / FakeOpenAIRest with `azure`), with the
// resource key or with Entra ID tokens from a credential the test gives the application.

const DEPLOYMENT = 'voice-prod';
const ENTRA_SCOPE = 'https://ai.azure.com/.default';

async function checklist(bridge: RunningBridge) {
  const response = await fetch(`${bridge.baseUrl}/console/api/checklist`, {
    headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
  });
  expect(response.status).toBe(200);
  const report = (await response.json()) as {
    checks: Array<{ name: string; title: string; state: string; detail: string; fix?: string }>;
  };
  return report.checks.find((check) => check.name === 'openai')!;
}

describe('Azure OpenAI', () => {
  let openai: FakeRealtimeServer | undefined;
  let rest: FakeTwilioRest | undefined;
  let models: FakeOpenAIRest | undefined;
  let bridge: RunningBridge | undefined;

  afterEach(async () => {
    await bridge?.close();
    await Promise.all([openai?.stop(), rest?.stop(), models?.stop()]);
    bridge = openai = rest = models = undefined;
  });

  describe('with the resource key', () => {
    beforeEach(async () => {
      openai = new FakeRealtimeServer({
        deployment: DEPLOYMENT,
        apiKey: TEST_AZURE_OPENAI_API_KEY,
      });
      await openai.start();
    });

    it('carries a call end to end on the deployment, with api-key and never Authorization', async () => {
      bridge = await startBridge({
        AZURE_OPENAI_ENDPOINT: openai!.azureEndpoint,
        AZURE_OPENAI_DEPLOYMENT: DEPLOYMENT,
        AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
        // Set, but an OpenAI key must not travel to Azure either.
        OPENAI_API_KEY: TEST_API_KEY,
      });
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai!.connection(0);
      const update = await upstream.waitFor('session.update');
      expect(upstream.url.pathname).toBe('/openai/v1/realtime');
      expect(upstream.url.searchParams.get('model')).toBe(DEPLOYMENT);
      expect(upstream.headers['api-key']).toBe(TEST_AZURE_OPENAI_API_KEY);
      expect(upstream.headers.authorization).toBeUndefined();
      expect((update.session as { model?: string }).model).toBe(DEPLOYMENT);

      const spoken = mulawTone(440, 200);
      for (const frame of frames20ms(spoken)) call.sendMedia(frame);
      await waitUntil(() => upstream.appendedAudio().equals(spoken), 'caller audio at Azure');
      const reply = mulawTone(300, 200);
      upstream.audioDelta('resp_1', 'item_1', reply);
      upstream.audioDone('resp_1', 'item_1');
      await waitUntil(() => call.receivedAudio().equals(reply), 'Azure audio at the caller');

      expect(openai!.refusals).toEqual([]);
      expect(bridge.logs.lines.join('\n')).not.toContain(TEST_AZURE_OPENAI_API_KEY);
    });

    it('names the missing deployment when Azure answers the upgrade with HTTP 404', async () => {
      bridge = await startBridge({
        AZURE_OPENAI_ENDPOINT: `${openai!.azureEndpoint}/openai/v1/`,
        AZURE_OPENAI_DEPLOYMENT: 'voice-typo',
        AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
      });
      await FakeTwilioCall.dial(bridge.baseUrl);
      const host = new URL(openai!.azureEndpoint).host;
      await waitUntil(
        () =>
          bridge!.logs.matching(
            new RegExp(
              `deployment 'voice-typo' not found at ${host.replace(/\./g, '\\.')}: check AZURE_OPENAI_DEPLOYMENT`,
            ),
          ).length > 0,
        'the failure naming the deployment',
      );
      // The endpoint's copied /openai/v1/ was dropped: the path was right, the deployment not.
      expect(openai!.refusals).toEqual(['deployment voice-typo']);
    });

    it('needs no OPENAI_API_KEY, and runs a call on the deployment its resolver chose', async () => {
      @Injectable()
      class DeploymentPerCaller implements CallSettingsResolver {
        resolve(call: CallDescription): Partial<CallSettingsChoice> {
          expect(call.defaults.deployment).toBe('voice-default');
          return { deployment: DEPLOYMENT };
        }
      }
      @Module({
        providers: [
          DeploymentPerCaller,
          { provide: CALL_SETTINGS_RESOLVER, useExisting: DeploymentPerCaller },
        ],
        exports: [CALL_SETTINGS_RESOLVER],
      })
      class ResolverModule {}

      bridge = await startBridge(
        {
          AZURE_OPENAI_ENDPOINT: openai!.azureEndpoint,
          // The fake serves voice-prod only: the call connects only on the resolver's choice.
          AZURE_OPENAI_DEPLOYMENT: 'voice-default',
          AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
          OPENAI_API_KEY: undefined,
        },
        [ResolverModule],
      );
      await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai!.connection(0);
      await upstream.waitFor('session.update');
      expect(upstream.url.searchParams.get('model')).toBe(DEPLOYMENT);
      expect(openai!.refusals).toEqual([]);
    });
  });

  it("ignores a resolver's deployment with OpenAI, and one Azure would not accept, with a warning", async () => {
    @Injectable()
    class OddDeployments implements CallSettingsResolver {
      resolve(call: CallDescription): Partial<CallSettingsChoice> {
        return { deployment: call.from === '+15550001111' ? 'voice-vip' : 'no/such deployment' };
      }
    }
    @Module({
      providers: [OddDeployments, { provide: CALL_SETTINGS_RESOLVER, useExisting: OddDeployments }],
      exports: [CALL_SETTINGS_RESOLVER],
    })
    class ResolverModule {}

    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({ OPENAI_REALTIME_URL: openai.url }, [ResolverModule]);
    await FakeTwilioCall.dial(bridge.baseUrl);
    await (await openai.connection(0)).waitFor('session.update');
    expect(openai.connections[0].url.searchParams.get('model')).toBe('gpt-realtime');
    expect(bridge.logs.matching(/deployments are Azure OpenAI's/)).toHaveLength(1);
    await bridge.close();
    await openai.stop();

    openai = new FakeRealtimeServer({ deployment: DEPLOYMENT, apiKey: TEST_AZURE_OPENAI_API_KEY });
    await openai.start();
    bridge = await startBridge(
      {
        AZURE_OPENAI_ENDPOINT: openai.azureEndpoint,
        AZURE_OPENAI_DEPLOYMENT: DEPLOYMENT,
        AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
      },
      [ResolverModule],
    );
    await FakeTwilioCall.dial(bridge.baseUrl, { from: '+15550007777' });
    await (await openai.connection(0)).waitFor('session.update');
    expect(openai.connections[0].url.searchParams.get('model')).toBe(DEPLOYMENT);
    expect(bridge.logs.matching(/it is not a deployment name/)).toHaveLength(1);
  });

  describe('with Microsoft Entra ID', () => {
    beforeEach(async () => {
      rest = new FakeTwilioRest();
      await rest.start();
    });

    async function startEntra(
      credential: CountingCredential,
      env: Record<string, string> = {},
      acceptsToken = credential.accepts,
    ) {
      openai = new FakeRealtimeServer({ deployment: DEPLOYMENT, acceptsToken });
      models = new FakeOpenAIRest('unused', { acceptsToken: credential.accepts });
      await Promise.all([openai.start(), models.start()]);
      bridge = await startBridge(
        {
          // The REST fake is the endpoint (the checklist's probe); the Realtime fake is reached
          // through an explicit OPENAI_REALTIME_URL, used as written.
          AZURE_OPENAI_ENDPOINT: models.endpoint,
          OPENAI_REALTIME_URL: `${openai.azureEndpoint.replace('http:', 'ws:')}/openai/v1/realtime`,
          AZURE_OPENAI_DEPLOYMENT: DEPLOYMENT,
          AZURE_OPENAI_AUTH: 'entra',
          OPENAI_API_KEY: undefined,
          TWILIO_API_BASE_URL: rest!.url,
          API_TOKEN: TEST_API_TOKEN,
          ...env,
        },
        [credentialModule(credential)],
      );
    }

    it('reconnects after the token expired with a fresh one from the credential', async () => {
      // Shorter-lived than the refresh margin: every connection asks for a new token.
      const credential = new CountingCredential(1000);
      await startEntra(credential);
      const call = await FakeTwilioCall.dial(bridge!.baseUrl);
      const first = await openai!.connection(0);
      await first.waitFor('session.update');
      const firstToken = first.headers.authorization;
      expect(firstToken).toBe('Bearer entra-token-1');
      expect(first.headers['api-key']).toBeUndefined();

      // The first token has expired; then the socket drops and the bridge reconnects.
      await waitUntil(() => !credential.accepts('entra-token-1'), 'the first token to expire');
      first.socket.close(1000);
      const second = await openai!.connection(1);
      await second.waitFor('session.update');
      expect(second.headers.authorization).not.toBe(firstToken);
      expect(second.headers.authorization).toMatch(/^Bearer entra-token-\d+$/);
      expect(credential.calls).toBeGreaterThanOrEqual(2);
      expect(new Set(credential.scopes)).toEqual(new Set([ENTRA_SCOPE]));
      expect(openai!.refusals).toEqual([]);
      expect(call.closeCode).toBeUndefined();
    });

    it('drops a token Azure refused (HTTP 401) and connects the call with a new one', async () => {
      const credential = new CountingCredential(60 * 60_000);
      // Azure refuses the first token it is shown (revoked, or issued for another audience),
      // although it is hours from expiry.
      let refused: string | undefined;
      await startEntra(credential, {}, (token) => {
        refused ??= token;
        return token !== refused && credential.accepts(token);
      });
      const call = await FakeTwilioCall.dial(bridge!.baseUrl);
      const upstream = await openai!.connection(0);
      await upstream.waitFor('session.update');
      expect(openai!.refusals).toEqual(['no or a bad token']);
      expect(upstream.headers.authorization).toMatch(/^Bearer entra-token-\d+$/);
      expect(upstream.headers.authorization).not.toBe(`Bearer ${refused}`);
      expect(credential.calls).toBe(2);
      expect(
        bridge!.logs.matching(/attempt 1 failed \(HTTP 401, token dropped for a new one\)/),
      ).toHaveLength(1);
      expect(call.closeCode).toBeUndefined();
    });

    it('shares one token between calls while it is far from expiry', async () => {
      const credential = new CountingCredential(60 * 60_000);
      await startEntra(credential);
      const calls = await Promise.all([1, 2, 3].map(() => FakeTwilioCall.dial(bridge!.baseUrl)));
      await waitUntil(() => openai!.connections.length === calls.length, 'three sessions');
      expect(openai!.connections.map((c) => c.headers.authorization)).toEqual(
        calls.map(() => 'Bearer entra-token-1'),
      );
      expect(credential.calls).toBe(1);
    });

    it('probes Azure from the checklist with a token, and names Azure', async () => {
      const credential = new CountingCredential(60 * 60_000);
      await startEntra(credential);
      const check = await checklist(bridge!);
      expect(check).toMatchObject({ state: 'ok', title: expect.stringMatching(/Azure OpenAI/) });
      expect(check.detail).toMatch(/^Azure OpenAI at 127\.0\.0\.1:\d+ accepted the Entra ID token/);
      expect(check.detail).toContain(`the Realtime deployment '${DEPLOYMENT}' is not checked`);
      expect(models!.requests.at(-1)).toMatchObject({
        method: 'GET',
        path: '/openai/v1/models',
        authorization: 'Bearer entra-token-1',
        apiKey: undefined,
      });
    });

    it('fails a call it cannot get a token for into the fallback, and the checklist says why', async () => {
      const credential = new CountingCredential(60 * 60_000);
      credential.failWith = new Error(
        'ManagedIdentityCredential: no managed identity endpoint\nfound',
      );
      await startEntra(credential, { FALLBACK_MESSAGE: 'Sorry, one moment please.' });
      const call = await FakeTwilioCall.dial(bridge!.baseUrl);
      const redirect = await rest!.waitForRequest();
      expect(redirect.path).toMatch(new RegExp(`/Calls/${call.callSid}\\.json$`));
      expect(redirect.form.Twiml).toContain('<Say>Sorry, one moment please.</Say>');
      await call.waitForClose();
      expect(openai!.connections).toHaveLength(0);
      expect(
        bridge!.logs.matching(
          /could not get a Microsoft Entra ID token for Azure OpenAI \(ManagedIdentityCredential: no managed identity endpoint found\)/,
        ).length,
      ).toBeGreaterThan(0);

      const check = await checklist(bridge!);
      expect(check.state).toBe('fail');
      expect(check.detail).toBe(
        'could not get a Microsoft Entra ID token for Azure OpenAI: ManagedIdentityCredential: no managed identity endpoint found',
      );
      expect(check.fix).toContain('Cognitive Services OpenAI User');
    });

    it('fails a call whose token does not come in time, naming the wait and the last error', async () => {
      const credential = new CountingCredential(60 * 60_000);
      credential.failWith = new Error('ManagedIdentityCredential: HTTP 500 from the IMDS endpoint');
      await startEntra(credential, { OPENAI_CONNECT_TIMEOUT_MS: '500' });
      const refused = await FakeTwilioCall.dial(bridge!.baseUrl);
      await rest!.waitForRequest();
      await refused.waitForClose();
      // Now the identity endpoint hangs: the next call's attempt gives up waiting for its token.
      credential.failWith = undefined;
      credential.hangs = true;
      const call = await FakeTwilioCall.dial(bridge!.baseUrl);
      await rest!.waitForRequest((request) => request.path.includes(call.callSid));
      await call.waitForClose();
      expect(openai!.connections).toHaveLength(0);
      expect(bridge!.logs.lines.join('\n')).not.toContain('no answer to the upgrade');
      expect(
        bridge!.logs.matching(
          /could not get a Microsoft Entra ID token for Azure OpenAI \(none within 500 ms; last error: ManagedIdentityCredential: HTTP 500 from the IMDS endpoint\)/,
        ).length,
      ).toBeGreaterThan(0);
    });
  });

  describe('the checklist with the resource key', () => {
    it('lists the models with api-key, and says when Azure refuses the key', async () => {
      models = new FakeOpenAIRest('unused', { apiKey: TEST_AZURE_OPENAI_API_KEY });
      await models.start();
      bridge = await startBridge({
        AZURE_OPENAI_ENDPOINT: models.endpoint,
        AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
        API_TOKEN: TEST_API_TOKEN,
      });
      const check = await checklist(bridge);
      expect(check.state).toBe('ok');
      expect(check.detail).toMatch(
        /^Azure OpenAI at 127\.0\.0\.1:\d+ accepted the key \(2 models\)/,
      );
      expect(models.requests.at(-1)).toMatchObject({
        path: '/openai/v1/models',
        apiKey: TEST_AZURE_OPENAI_API_KEY,
        authorization: undefined,
      });
      await bridge.close();

      bridge = await startBridge({
        AZURE_OPENAI_ENDPOINT: models.endpoint,
        AZURE_OPENAI_API_KEY: 'b7e0c2d94f1a4e6c8d3b5a7f9e1c0d2a',
        API_TOKEN: TEST_API_TOKEN,
      });
      expect(await checklist(bridge)).toMatchObject({
        state: 'fail',
        detail: 'Azure OpenAI refused the key (HTTP 401)',
        fix: 'check AZURE_OPENAI_API_KEY',
      });
    });
  });

  describe('start-up refuses', () => {
    // The built service, run where no .env file is.
    let emptyDir: string;
    beforeAll(() => (emptyDir = mkdtempSync(join(tmpdir(), 'bridge-azure-'))));
    afterAll(() => rmSync(emptyDir, { recursive: true, force: true }));

    async function refused(env: Record<string, string>): Promise<string[]> {
      const service = await ServiceProcess.start(
        { TWILIO_VALIDATE_SIGNATURES: 'false', ...env },
        15_000,
        resolve('dist/main.js'),
        emptyDir,
      );
      expect(await service.waitForExit(10_000)).toBe(1);
      return service.logs.split('\n').filter((line) => /^\s+- /.test(line));
    }

    it('a bad endpoint, both credentials and OpenAI URLs: one line each, no secret (SIP allowed)', async () => {
      const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
      const lines = await refused({
        AZURE_OPENAI_ENDPOINT: 'contoso.openai.azure.com',
        AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
        AZURE_OPENAI_AUTH: 'entra',
        OPENAI_REALTIME_URL: 'wss://api.openai.com/v1/realtime',
        OPENAI_API_BASE_URL: 'https://api.openai.com/v1',
        // Azure's SIP webhook signs as OpenAI's: not a problem (test/sip-azure.e2e-spec.ts).
        OPENAI_WEBHOOK_SECRET: secret,
      });
      expect(lines.map((line) => line.trim().slice(2).split(':')[0]).sort()).toEqual(
        [
          'AZURE_OPENAI_ENDPOINT',
          'AZURE_OPENAI_API_KEY',
          'OPENAI_REALTIME_URL',
          'OPENAI_API_BASE_URL',
        ].sort(),
      );
      expect(lines.join('\n')).not.toContain(TEST_AZURE_OPENAI_API_KEY);
      expect(lines.join('\n')).not.toContain(secret);
    });

    it('an endpoint with neither credential (and no OPENAI_API_KEY asked for)', async () => {
      const lines = await refused({ AZURE_OPENAI_ENDPOINT: 'https://contoso.openai.azure.com' });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/AZURE_OPENAI_API_KEY: is required with AZURE_OPENAI_ENDPOINT/);
    });
  });

  it("derives the URL from the endpoint (not OpenAI's default) and defaults the deployment to the model", async () => {
    openai = new FakeRealtimeServer({
      deployment: 'gpt-realtime',
      apiKey: TEST_AZURE_OPENAI_API_KEY,
    });
    await openai.start();
    bridge = await startBridge({
      AZURE_OPENAI_ENDPOINT: openai.azureEndpoint,
      AZURE_OPENAI_API_KEY: TEST_AZURE_OPENAI_API_KEY,
    });
    await FakeTwilioCall.dial(bridge.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    expect(upstream.url.pathname).toBe('/openai/v1/realtime');
    expect(upstream.url.searchParams.get('model')).toBe('gpt-realtime');
  });
});
