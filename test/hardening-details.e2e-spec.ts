import { jest } from '@jest/globals';
import { CallOrchestrator } from '../src/media-call/call-orchestrator.js';
import { Secret } from '../src/config/secret.js';
import type { TwilioConfig } from '../src/config/config.namespaces.js';
import { StreamTokenService } from '../src/twilio/stream-token.service.js';
import { mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { EventsReceiver } from './support/events-receiver.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_AUTH_TOKEN,
  testSid,
} from './support/fake-twilio.js';
import { rawRequest, rawUpgrade, statusOf } from './support/raw-http.js';
import { sleep, waitUntil } from './support/wait.js';
import { TEST_API_TOKEN } from './support/secrets.js';

// Issue 11, item 6 and the protections that hand-made mutants of the old main survived.

describe('hardening details', () => {
  let openai: FakeRealtimeServer;
  let rest: FakeTwilioRest;
  let bridge: RunningBridge | undefined;

  async function startWith(env: Record<string, string> = {}): Promise<RunningBridge> {
    bridge = await startBridge({
      OPENAI_REALTIME_URL: openai.url,
      TWILIO_API_BASE_URL: rest.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      ...env,
    });
    return bridge;
  }

  async function callIn(baseUrl: string) {
    const call = await FakeTwilioCall.dial(baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    rest = new FakeTwilioRest();
    await Promise.all([openai.start(), rest.start()]);
  });

  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await Promise.all([openai.stop(), rest.stop()]);
  });

  it('caps one call’s warning lines and counts the rest in the call record', async () => {
    const { baseUrl } = await startWith();
    const { call, upstream } = await callIn(baseUrl);
    for (let i = 0; i < 200; i++) upstream.send({ type: 'response.output_audio.delta' });
    await waitUntil(
      () => bridge!.logs.matching(/warning limit of 50 reached/).length === 1,
      'the warning limit',
    );
    await sleep(200);
    call.stop();
    await waitUntil(
      () => bridge!.logs.matching(/call ended.*warnings not logged 150\)/).length === 1,
      'the count in the call record',
    );
    expect(bridge!.logs.matching(/dropped invalid OpenAI event/)).toHaveLength(50);
  });

  it('delivers a burst of key presses to the events webhook as one event', async () => {
    const webhook = await EventsReceiver.start();
    try {
      const { baseUrl } = await startWith(webhook.env);
      const { call } = await callIn(baseUrl);
      for (const digit of '12345678') {
        call.send({ event: 'dtmf', streamSid: call.streamSid, dtmf: { digit } });
      }
      // A flood beyond what a person can type is dropped at the gateway, not delivered.
      for (let i = 0; i < 1000; i++) {
        call.send({ event: 'dtmf', streamSid: call.streamSid, dtmf: { digit: '9' } });
      }
      call.stop();
      await webhook.event('call.ended', 8000);
      const dtmf = webhook.events('call.dtmf');
      expect(dtmf).toHaveLength(1);
      // Ten a second (and a burst of ten) pass: the eight digits and a few of the flood.
      expect(dtmf[0].digits).toMatch(/^123456789*$/);
      expect((dtmf[0].digits as string).length).toBeLessThan(20);
    } finally {
      await webhook.close();
    }
  });

  it('answers 400, not 500, for a Host or X-Forwarded-Host that cannot name a URL, even unsigned', async () => {
    const { baseUrl } = await startWith();
    const post = (headers: Record<string, string>) =>
      rawRequest(baseUrl, {
        method: 'POST',
        path: '/api/twiml',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: `CallSid=${testSid('CA')}`,
      });
    expect((await post({ host: 'bad host/x' })).status).toBe(400);
    expect(statusOf(await rawUpgrade(baseUrl, 'bad host/x'))).toBe(400);
    await bridge!.close();
    const proxied = await startWith({ TRUST_PROXY: 'true' });
    expect(
      (
        await rawRequest(proxied.baseUrl, {
          method: 'POST',
          path: '/api/twiml',
          headers: {
            host: new URL(proxied.baseUrl).host,
            'x-forwarded-host': 'evil"host',
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: `CallSid=${testSid('CA')}`,
        })
      ).status,
    ).toBe(400);
  });

  it('strips control characters from values it copies into TwiML', async () => {
    const { baseUrl } = await startWith();
    const response = await postTwiml(baseUrl, {
      CallSid: testSid('CA'),
      From: '+1555\u0001\u001b000\u00071',
      To: '+1555\u00000002',
    });
    expect(response.status).toBe(200);
    const xml = await response.text();
    // eslint-disable-next-line no-control-regex
    expect(xml).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(parseStreamTwiml(xml).parameters).toMatchObject({ From: '+15550001', To: '+15550002' });
  });

  it('cuts a close reason by bytes, so a multibyte one closes cleanly', async () => {
    const { baseUrl } = await startWith();
    const { upstream } = await callIn(baseUrl);
    upstream.send({
      type: 'error',
      error: { type: 'insufficient_quota', code: 'insufficient_quota', message: 'é'.repeat(200) },
    });
    await upstream.waitForClose();
    await waitUntil(() => upstream.closeCode !== undefined, 'the close frame');
    expect(upstream.closeCode).toBe(1000);
    expect(upstream.closeReason).toMatch(/^OpenAI error insufficient_quota: é+$/);
    expect(Buffer.byteLength(upstream.closeReason!)).toBeLessThanOrEqual(123);
    expect(bridge!.logs.matching(/internal error/)).toHaveLength(0);
  });

  it('drops media that names another streamSid', async () => {
    const { baseUrl } = await startWith();
    const { call, upstream } = await callIn(baseUrl);
    const foreign = mulawTone(300, 20);
    for (let i = 0; i < 5; i++) {
      call.send({
        event: 'media',
        streamSid: testSid('MZ'),
        media: { payload: foreign.toString('base64') },
      });
    }
    const own = mulawTone(440, 20);
    call.sendMedia(own);
    await waitUntil(() => upstream.appendedAudio().length > 0, 'own audio');
    await sleep(100);
    expect(upstream.appendedAudio()).toEqual(own);
    expect(bridge!.logs.matching(/dropped Twilio frame: media for another streamSid/)).toHaveLength(
      5,
    );
  });

  it('controls only calls it knows: 404 for an unknown call, 400 for a malformed sid', async () => {
    const { baseUrl } = await startWith({ API_TOKEN: TEST_API_TOKEN });
    const hangUp = (sid: string) =>
      fetch(`${baseUrl}/api/calls/${sid}/hangup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
      });
    expect((await hangUp(testSid('CA'))).status).toBe(404);
    expect((await hangUp('CA1')).status).toBe(400);
    expect((await hangUp('CA0000000000000000000000000000000g')).status).toBe(400);
    expect(rest.requests).toHaveLength(0);
  });

  describe('the stream token at the gateway (unsigned upgrades: the token alone decides)', () => {
    const tokens = new StreamTokenService({
      authToken: new Secret(TEST_AUTH_TOKEN),
      streamTokenTtlS: 60,
    } as TwilioConfig);

    async function startUnsigned(
      parameters: (own: Record<string, string>) => Record<string, string>,
    ) {
      const { baseUrl } = await startWith();
      const callSid = testSid('CA');
      const stream = parseStreamTwiml(
        await (await postTwiml(baseUrl, { CallSid: callSid })).text(),
      );
      const call = await FakeTwilioCall.open(stream, { callSid, signature: null });
      call.start({ customParameters: parameters(stream.parameters) });
      expect(await call.waitForClose(2000)).toBe(1008);
      expect(openai.connections).toHaveLength(0);
      return callSid;
    }

    it('refuses a wrong token', async () => {
      const callSid = await startUnsigned((own) => ({ ...own, token: 'kw3x.bm90LXRoZS1tYWM' }));
      expect(
        bridge!.logs.matching(new RegExp(`callSid=${callSid}: stream token invalid`)),
      ).toHaveLength(1);
    });

    it("refuses another call's valid token", async () => {
      const other = tokens.issue(testSid('CA'));
      const callSid = await startUnsigned((own) => ({ ...own, token: other }));
      expect(
        bridge!.logs.matching(new RegExp(`callSid=${callSid}: stream token invalid`)),
      ).toHaveLength(1);
    });

    it('refuses its own token with another caller or profile than the TwiML gave', async () => {
      const changes: Record<string, string>[] = [
        { From: '+19005550199' },
        { profile: 'vip-unlisted' },
      ];
      for (const changed of changes) {
        const callSid = await startUnsigned((own) => ({ ...own, ...changed }));
        expect(
          bridge!.logs.matching(
            new RegExp(
              `callSid=${callSid}: start.customParameters \\(From, To, Direction, profile\\) differ`,
            ),
          ),
        ).toHaveLength(1);
        await bridge!.close();
        bridge = undefined;
      }
    });

    it('refuses an expired token', async () => {
      const callSid = await startUnsigned((own) => ({
        ...own,
        token: tokens.issue(own.CallSid, {}, Date.now() - 120_000),
      }));
      expect(
        bridge!.logs.matching(new RegExp(`callSid=${callSid}: stream token expired`)),
      ).toHaveLength(1);
    });
  });

  it('ends only its own call when a socket handler throws', async () => {
    const { baseUrl } = await startWith();
    const { call: other, upstream: otherUpstream } = await callIn(baseUrl);
    const victim = await FakeTwilioCall.dial(baseUrl);
    await (await openai.connection(1)).waitFor('session.update');
    // A bug on the gateway's per-frame path (fault injected): the next invalid frame throws.
    const spy = jest.spyOn(CallOrchestrator.prototype, 'countDrop').mockImplementationOnce(() => {
      throw new Error('injected fault');
    });
    try {
      victim.socket.send('not json');
      await victim.waitForClose(3000);
    } finally {
      spy.mockRestore();
    }
    await waitUntil(
      () =>
        bridge!.logs.matching(/internal error in media stream message: Error: injected fault/)
          .length === 1,
      'the error logged',
    );
    expect(
      bridge!.logs.matching(new RegExp(`callSid=${victim.callSid}.*call ended.*internal error`)),
    ).toHaveLength(1);
    // The other call goes on.
    const audio = mulawTone(440, 40);
    other.sendMedia(audio.subarray(0, 160));
    other.sendMedia(audio.subarray(160));
    await waitUntil(() => otherUpstream.appendedAudio().length === audio.length, 'the other call');
    expect(other.closeCode).toBeUndefined();
  });

  it('says why readiness is down while draining', async () => {
    const { baseUrl } = await startWith({ SHUTDOWN_DRAIN_S: '10' });
    const { call } = await callIn(baseUrl);
    const closing = bridge!.close();
    await waitUntil(() => bridge!.logs.matching(/draining 1 active calls/).length === 1, 'drain');
    const ready = await fetch(`${baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { error: Record<string, { message?: string }> };
    expect(body.error.admission).toEqual({ status: 'down', message: 'draining for shutdown' });
    call.stop();
    await closing;
    bridge = undefined;
  });
});
