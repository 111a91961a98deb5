import { jest } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { startHostApp } from './fixtures/host-app.js';
import { mulawTone } from './support/audio.js';
import { TEST_API_KEY } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { openListen } from './support/listen-client.js';
import { randomTwilioAuthToken } from './support/secrets.js';

// Listen-in goes through the bridge's upgrade router, so it works in an application of its own
// (socket.io on the same port, the bridge under a global prefix) as in the bridge's own app.

jest.setTimeout(30_000);

const AUTH_TOKEN = randomTwilioAuthToken();
const API_TOKEN = 'listen-host-token-0123456789abcdef';

describe('listen-in in a host application', () => {
  let openai: FakeRealtimeServer;
  let app: INestApplication;
  let call: FakeTwilioCall;

  beforeAll(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    app = await startHostApp({
      gateway: 'socket.io',
      ownEmitter: true,
      globalPrefix: 'voice',
      settings: {
        openai: { apiKey: TEST_API_KEY, realtimeUrl: openai.url },
        twilio: { authToken: AUTH_TOKEN, apiBaseUrl: 'http://127.0.0.1:9' },
        api: { token: API_TOKEN },
        limits: { shutdownDrainS: 0 },
        history: { enabled: false },
      },
    });
  });

  afterAll(async () => {
    call?.hangUp();
    await app?.close();
    await openai?.stop();
  });

  it('serves the listen socket under the app’s prefix, and the caller is heard on it', async () => {
    const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    call = await FakeTwilioCall.dial(`${baseUrl}/voice`, { authToken: AUTH_TOKEN });
    await (await openai.connection(0)).waitFor('session.update');
    const url = `${baseUrl.replace('http', 'ws')}/voice/api/calls/${call.callSid}/listen`;
    const { client, status } = await openListen(url, { authorization: `Bearer ${API_TOKEN}` });
    expect(status).toBeUndefined();
    await client!.waitFor('start');
    const frame = mulawTone(440, 20);
    call.sendMedia(frame);
    await client!.waitFor('media');
    expect(client!.audio('caller').equals(frame)).toBe(true);
    client!.close();
  });
});
