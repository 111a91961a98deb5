import twilio from 'twilio';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, parseStreamTwiml, TEST_AUTH_TOKEN } from './support/fake-twilio.js';

// PUBLIC_URL with a path: a proxy serves the bridge under https://edge.example.com/voice and strips
// the prefix. Twilio requests, and signs, the prefixed URLs; the bridge serves the bare paths.

describe('a PUBLIC_URL with a path prefix', () => {
  const PUBLIC = 'https://edge.example.com/voice';
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({ PUBLIC_URL: PUBLIC, OPENAI_REALTIME_URL: openai.url });
  });

  afterEach(async () => {
    await bridge.close();
    await openai.stop();
  });

  async function webhook(signedUrl: string): Promise<Response> {
    const fields = { CallSid: 'CA00000000000000000000000000000042', From: '+15550001111' };
    return fetch(`${bridge.baseUrl}/api/twiml`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, signedUrl, fields),
      },
      body: new URLSearchParams(fields).toString(),
    });
  }

  it('keeps the path in the Stream URL and checks webhook signatures against it', async () => {
    const response = await webhook(`${PUBLIC}/api/twiml`);
    expect(response.status).toBe(200);
    const stream = parseStreamTwiml(await response.text());
    expect(stream.url).toBe('wss://edge.example.com/voice/media-stream');
    expect((await webhook('https://edge.example.com/api/twiml')).status).toBe(403);
  });

  it('checks the media stream signature against the prefixed wss:// URL', async () => {
    const local = { url: `${bridge.baseUrl.replace('http', 'ws')}/media-stream`, parameters: {} };
    const sign = (url: string) => twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, {});
    await expect(
      FakeTwilioCall.open(local, { signature: sign('wss://edge.example.com/media-stream') }),
    ).rejects.toThrow('HTTP 403');
    const call = await FakeTwilioCall.open(local, {
      signature: sign('wss://edge.example.com/voice/media-stream'),
    });
    call.socket.close();
  });
});
