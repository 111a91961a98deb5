import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { ModuleRef } from '@nestjs/core';
import type { OpenAIConfig } from '../config/config.namespaces.js';
import { Secret } from '../config/secret.js';
import { RealtimeCredentials } from '../realtime/realtime-credentials.service.js';
import { FakeOpenAICalls } from '../../test/support/fake-openai-calls.js';
import { OpenAICallsClient, OpenAICallsApiError } from './openai-calls.client.js';
import { createOpenAIClient } from './openai-client.provider.js';

const API_KEY = 'sk-proj-unit-test-key-for-the-calls-client';

const clientFor = (apiBaseUrl: string) => {
  const config = { apiKey: new Secret(API_KEY), apiBaseUrl } as OpenAIConfig;
  // Only Entra ID mode looks anything up (its credential); none here.
  const credentials = new RealtimeCredentials(config, {} as ModuleRef);
  return new OpenAICallsClient(createOpenAIClient(config), credentials);
};

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('OpenAICallsClient (the openai package, against the fake calls API)', () => {
  let api: FakeOpenAICalls;
  let client: OpenAICallsClient;

  beforeEach(async () => {
    api = new FakeOpenAICalls();
    await api.start();
    client = clientFor(api.url);
  });
  afterEach(() => api.stop());

  it('posts each action to its path under the base URL, with Bearer auth and its body', async () => {
    await client.accept('rtc_1', { type: 'realtime', instructions: 'Hi' });
    await client.reject('rtc_1', 486);
    await client.refer('rtc_1', 'tel:+15551230003');
    await client.hangup('rtc_1');
    expect(api.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/v1/realtime/calls/rtc_1/accept', { type: 'realtime', instructions: 'Hi' }],
      ['POST', '/v1/realtime/calls/rtc_1/reject', { status_code: 486 }],
      ['POST', '/v1/realtime/calls/rtc_1/refer', { target_uri: 'tel:+15551230003' }],
      ['POST', '/v1/realtime/calls/rtc_1/hangup', undefined],
    ]);
    expect(api.requests.every((r) => r.authorization === `Bearer ${API_KEY}`)).toBe(true);
  });

  it('never sends an accept twice, whatever OpenAI answered (503, 500, 429)', async () => {
    for (const status of [503, 500, 429]) {
      api.statusFor.accept = [status];
      await expect(client.accept('rtc_2', { type: 'realtime' })).rejects.toMatchObject({
        status,
      });
    }
    expect(api.of('accept')).toHaveLength(3);
  });

  it('never sends a REFER twice: it might transfer the caller twice', async () => {
    api.statusFor.refer = [500];
    await expect(client.refer('rtc_3', 'tel:+15551230003')).rejects.toBeInstanceOf(
      OpenAICallsApiError,
    );
    expect(api.of('refer')).toHaveLength(1);
  });

  it('repeats a hang-up or a reject after a transient failure, at most three attempts', async () => {
    api.statusFor.hangup = [503, 500];
    await client.hangup('rtc_4');
    expect(api.of('hangup')).toHaveLength(3);

    api.statusFor.reject = [503, 503, 503, 503];
    await expect(client.reject('rtc_4', 486)).rejects.toMatchObject({ status: 503 });
    expect(api.of('reject')).toHaveLength(3);
  });

  it('does not repeat a refusal (4xx) and says what OpenAI answered', async () => {
    api.statusFor.hangup = [404];
    await expect(client.hangup('rtc_5')).rejects.toThrow(/^hangup rtc_5: HTTP 404 fake 404$/);
    expect(api.of('hangup')).toHaveLength(1);
  });

  it('names the network error when OpenAI cannot be reached', async () => {
    const unreachable = clientFor(`http://127.0.0.1:${await closedPort()}/v1`);
    await expect(unreachable.accept('rtc_6', { type: 'realtime' })).rejects.toThrow(
      /^accept rtc_6: request failed \(ECONNREFUSED\)$/,
    );
  });

  it('never repeats the API key in an error, even when the server echoes it', async () => {
    api.statusFor.refer = [401];
    api.errorMessage = (request) => `bad key ${request.authorization}`;
    const error = await client.refer('rtc_7', 'tel:+15551230003').catch((e: Error) => e);
    expect(String(error)).toContain('HTTP 401 bad key Bearer [redacted]');
    expect(String(error)).not.toContain(API_KEY);
  });

  it('refuses a malformed call id without a request', async () => {
    await expect(client.hangup('rtc_1/../../files')).rejects.toThrow(/malformed/);
    expect(api.requests).toHaveLength(0);
  });
});
