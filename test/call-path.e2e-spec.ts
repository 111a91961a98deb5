import WebSocket from 'ws';
import { dominantFrequency, frames20ms, mulawTone, pcm16leSamples } from './support/audio.js';
import { startBridge, TEST_API_KEY, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_AUTH_TOKEN,
} from './support/fake-twilio.js';
import { sleep, waitUntil } from './support/wait.js';
import { randomTwilioAuthToken } from './support/secrets.js';

describe('a call through the bridge', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  async function startWith(env: Record<string, string> = {}) {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge({ OPENAI_REALTIME_URL: openai.url, ...env });
  }

  afterEach(async () => {
    await bridge?.close();
    await openai?.stop();
  });

  describe('with g711_ulaw input', () => {
    beforeEach(() => startWith({ AUDIO_INPUT_FORMAT: 'g711_ulaw', OPENAI_VOICE: 'marin' }));

    it('opens the GA Realtime session with the key, the model and session.update before any audio', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      call.sendMedia(mulawTone(440, 20));
      const upstream = await openai.connection(0);
      await upstream.waitFor('input_audio_buffer.append');

      expect(upstream.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
      expect(upstream.headers['openai-beta']).toBeUndefined();
      expect(upstream.url.searchParams.get('model')).toBe('gpt-realtime');
      expect(upstream.received[0].type).toBe('session.update');
      const session = upstream.received[0].session as Record<string, any>;
      expect(session.type).toBe('realtime');
      expect(session.audio.input.format).toEqual({ type: 'audio/pcmu' });
      expect(session.audio.output.format).toEqual({ type: 'audio/pcmu' });
      expect(session.audio.output.voice).toBe('marin');
      expect(session.audio.input.turn_detection.type).toBe('semantic_vad');
      for (const betaField of [
        'input_audio_format',
        'output_audio_format',
        'modalities',
        'voice',
        'turn_detection',
        'input_audio_transcription',
      ]) {
        expect(session).not.toHaveProperty(betaField);
      }
    });

    it('passes the caller audio to OpenAI byte for byte', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      const audio = mulawTone(440, 400);
      for (const frame of frames20ms(audio)) call.sendMedia(frame);
      await waitUntil(() => upstream.appendedAudio().length === audio.length, 'all audio appended');
      expect(upstream.appendedAudio().equals(audio)).toBe(true);
    });

    it('plays model audio to the caller byte for byte, with a mark per ~100 ms and a final one', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      const reply = mulawTone(300, 300);
      // 125 ms, 125 ms and 50 ms: the last is too short for a mark of its own until it ends.
      const chunks = [reply.subarray(0, 1000), reply.subarray(1000, 2000), reply.subarray(2000)];
      for (const chunk of chunks) upstream.audioDelta('resp_1', 'item_1', chunk);
      upstream.audioDone('resp_1', 'item_1');

      await waitUntil(() => call.framesOf('mark').length === 3, 'the final mark at Twilio');
      expect(call.receivedAudio().equals(reply)).toBe(true);
      const events = call.received.map((frame) => frame.event);
      expect(events).toEqual(['media', 'mark', 'media', 'mark', 'media', 'mark']);
      expect(call.framesOf('media').every((frame) => frame.streamSid === call.streamSid)).toBe(
        true,
      );
    });

    it('keeps caller audio that arrives while the OpenAI session is still opening', async () => {
      openai.acceptDelayMs = 300;
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const audio = mulawTone(440, 200);
      for (const frame of frames20ms(audio)) call.sendMedia(frame);
      const upstream = await openai.connection(0);
      await waitUntil(
        () => upstream.appendedAudio().length === audio.length,
        'buffered audio appended',
      );
      expect(upstream.appendedAudio().equals(audio)).toBe(true);
      expect(upstream.received[0].type).toBe('session.update');
    });

    it('closes the OpenAI socket at once when Twilio sends stop', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      call.stop();
      await upstream.waitForClose();
      await waitUntil(
        () => bridge.logs.matching(/call ended.*stop/).length === 1,
        'call-ended log',
      );
    });

    it('closes the OpenAI socket when the caller hangs up without stop', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      call.hangUp();
      await upstream.waitForClose();
    });

    it('lets the assistant speak first when AI_GREETING is set', async () => {
      await bridge.close();
      bridge = await startBridge({
        OPENAI_REALTIME_URL: openai.url,
        AI_GREETING: 'Hello, this is Acme.',
      });
      await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      const greeting = await upstream.waitFor('response.create');
      expect(upstream.received.indexOf(greeting)).toBeGreaterThan(0);
      expect(JSON.stringify(greeting)).toContain('Hello, this is Acme.');
    });

    it('reports the active calls on /health', async () => {
      await FakeTwilioCall.dial(bridge.baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      const body = (await (await fetch(`${bridge.baseUrl}/health`)).json()) as {
        activeCalls: number;
      };
      expect(body.activeCalls).toBe(1);
    });
  });

  describe('with pcm16 input (the default)', () => {
    beforeEach(() => startWith());

    it('sends OpenAI 24 kHz PCM16 that keeps the caller tone frequency and three times the samples', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      const update = await upstream.waitFor('session.update');
      expect((update.session as any).audio.input.format).toEqual({
        type: 'audio/pcm',
        rate: 24000,
      });
      expect((update.session as any).audio.output.format).toEqual({ type: 'audio/pcmu' });

      const audio = mulawTone(440, 1000);
      for (const frame of frames20ms(audio)) call.sendMedia(frame);
      await waitUntil(
        () => upstream.appendedAudio().length === audio.length * 6,
        '1 s of PCM16 at 24 kHz',
      );
      const samples = pcm16leSamples(upstream.appendedAudio());
      expect(samples.length).toBe(24000);
      expect(dominantFrequency(samples.subarray(2400), 24000)).toBeGreaterThanOrEqual(430);
      expect(dominantFrequency(samples.subarray(2400), 24000)).toBeLessThanOrEqual(450);
    });
  });

  describe('barge-in', () => {
    beforeEach(() => startWith({ AUDIO_INPUT_FORMAT: 'g711_ulaw' }));

    it('clears Twilio, truncates at what the caller heard and drops the rest of that response', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl, { playInRealTime: true });
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      const chunk = mulawTone(300, 100);
      for (let i = 0; i < 3; i++) upstream.audioDelta('resp_1', 'item_1', chunk);
      await waitUntil(() => call.framesOf('media').length === 3, 'three chunks at Twilio');
      await sleep(150);

      upstream.send({
        type: 'input_audio_buffer.speech_started',
        audio_start_ms: 1000,
        item_id: 'item_user',
      });
      const truncate = await upstream.waitFor('conversation.item.truncate');
      await call.waitFor('clear');
      const heard = call.playback!.clears[0].playedMs;
      expect(truncate).toMatchObject({ item_id: 'item_1', content_index: 0 });
      expect(Math.abs((truncate.audio_end_ms as number) - heard)).toBeLessThanOrEqual(20);

      // Late deltas of the interrupted response are not played.
      const mediaBefore = call.framesOf('media').length;
      upstream.audioDelta('resp_1', 'item_1', chunk);
      upstream.send({ type: 'response.done', response: { id: 'resp_1', status: 'cancelled' } });
      upstream.audioDelta('resp_2', 'item_2', chunk);
      await waitUntil(
        () => call.framesOf('media').length === mediaBefore + 1,
        'next response audio',
      );
      expect(call.framesOf('media').at(-1)!.media.payload).toBe(chunk.toString('base64'));
    });

    it('truncates at (nearly) 0 ms when nothing has been heard yet', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl, { playInRealTime: true });
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      upstream.audioDelta('resp_1', 'item_1', mulawTone(300, 200));
      await call.waitFor('media');
      upstream.send({
        type: 'input_audio_buffer.speech_started',
        audio_start_ms: 10,
        item_id: 'item_user',
      });
      const truncate = await upstream.waitFor('conversation.item.truncate');
      expect(truncate).toMatchObject({ item_id: 'item_1' });
      expect(truncate.audio_end_ms as number).toBeLessThanOrEqual(20);
    });

    it('does nothing when the caller speaks after the reply finished playing', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      upstream.audioDelta('resp_1', 'item_1', mulawTone(300, 100));
      upstream.audioDone('resp_1', 'item_1');
      upstream.send({ type: 'response.done', response: { id: 'resp_1', status: 'completed' } });
      await waitUntil(() => call.framesOf('mark').length === 2, 'both marks echoed');
      await sleep(50);
      upstream.send({
        type: 'input_audio_buffer.speech_started',
        audio_start_ms: 10,
        item_id: 'item_user',
      });
      await sleep(200);
      expect(upstream.eventsOfType('conversation.item.truncate')).toHaveLength(0);
      expect(call.framesOf('clear')).toHaveLength(0);
    });
  });

  describe('authentication', () => {
    beforeEach(() => startWith({ AUDIO_INPUT_FORMAT: 'g711_ulaw' }));

    it('answers the signed webhook with TwiML that streams to /media-stream with the call parameters', async () => {
      const response = await postTwiml(bridge.baseUrl, {
        CallSid: 'CAcc03e747a6afbbcbf8be7668acfebee5',
        From: '+15551230001',
        To: '+15551230002',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/xml/);
      const xml = await response.text();
      expect(xml).toMatch(
        /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect><Stream url="ws:\/\/127\.0\.0\.1:\d+\/media-stream" statusCallback="http:\/\/127\.0\.0\.1:\d+\/api\/stream-status" statusCallbackMethod="POST">/,
      );
      const { parameters } = parseStreamTwiml(xml);
      expect(parameters).toMatchObject({
        CallSid: 'CAcc03e747a6afbbcbf8be7668acfebee5',
        From: '+15551230001',
        To: '+15551230002',
      });
      expect(parameters.token).toEqual(expect.any(String));
    });

    it('refuses the webhook with a wrong or missing signature (403)', async () => {
      expect(
        (
          await postTwiml(
            bridge.baseUrl,
            { CallSid: 'CA5a105e8b9d40e1329780d62ea2265d8a' },
            { signature: 'bm9wZQ==' },
          )
        ).status,
      ).toBe(403);
      expect(
        (
          await postTwiml(
            bridge.baseUrl,
            { CallSid: 'CA5a105e8b9d40e1329780d62ea2265d8a' },
            { signature: null },
          )
        ).status,
      ).toBe(403);
      expect(
        (
          await postTwiml(
            bridge.baseUrl,
            { CallSid: 'CA5a105e8b9d40e1329780d62ea2265d8a' },
            { authToken: randomTwilioAuthToken() },
          )
        ).status,
      ).toBe(403);
    });

    it('accepts a signed GET webhook, signed over its query string', async () => {
      const twilio = (await import('twilio')).default;
      const url = `${bridge.baseUrl}/api/twiml?CallSid=CAd40b31764c7f77dad3fa57e01d2c19fd&From=%2B15550001111&To=%2B15550002222`;
      const response = await fetch(url, {
        headers: {
          'x-twilio-signature': twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, {}),
        },
      });
      expect(response.status).toBe(200);
      expect(parseStreamTwiml(await response.text()).parameters.CallSid).toBe(
        'CAd40b31764c7f77dad3fa57e01d2c19fd',
      );
    });

    it('refuses a media stream upgrade whose signature is present and wrong (HTTP 403)', async () => {
      const stream = parseStreamTwiml(
        await (
          await postTwiml(bridge.baseUrl, { CallSid: 'CA739969b53246b2c727850dbb3490ede6' })
        ).text(),
      );
      await expect(FakeTwilioCall.open(stream, { signature: 'd3Jvbmc=' })).rejects.toThrow(
        'HTTP 403',
      );
    });

    it('accepts an unsigned upgrade and lets the stream token decide', async () => {
      const stream = parseStreamTwiml(
        await (
          await postTwiml(bridge.baseUrl, { CallSid: 'CAc1a8e059bfd1e911cf10b626340c9a54' })
        ).text(),
      );
      const call = await FakeTwilioCall.open(stream, {
        signature: null,
        callSid: 'CAc1a8e059bfd1e911cf10b626340c9a54',
      });
      call.start();
      await openai.connection(0);
    });

    it('closes a stream whose start has no token, within 2 s, without reaching OpenAI', async () => {
      const stream = parseStreamTwiml(
        await (
          await postTwiml(bridge.baseUrl, { CallSid: 'CAf696282aa4cd4f614aa995190cf442fe' })
        ).text(),
      );
      const call = await FakeTwilioCall.open(stream, {
        callSid: 'CAf696282aa4cd4f614aa995190cf442fe',
      });
      const { token: _token, ...withoutToken } = stream.parameters;
      call.start({ customParameters: withoutToken });
      expect(await call.waitForClose(2000)).toBe(1008);
      expect(openai.connections).toHaveLength(0);
      expect(
        bridge.logs.matching(
          /refused media stream for callSid=CAf696282aa4cd4f614aa995190cf442fe: stream token missing/,
        ),
      ).toHaveLength(1);
    });

    it("refuses a start that replays another call's whole parameter set", async () => {
      const issued = parseStreamTwiml(
        await (
          await postTwiml(bridge.baseUrl, { CallSid: 'CA48ef9de4a713a47a9109129ac920874a' })
        ).text(),
      );
      const call = await FakeTwilioCall.open(issued, {
        callSid: 'CA0e72e88cfe5128b8985e5ee917c2d36d',
      });
      call.start({
        callSid: 'CA0e72e88cfe5128b8985e5ee917c2d36d',
        customParameters: issued.parameters,
      });
      expect(await call.waitForClose(2000)).toBe(1008);
      expect(openai.connections).toHaveLength(0);
    });

    it('never writes the API key or the auth token to the log', async () => {
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      call.stop();
      await waitUntil(() => bridge.logs.matching(/call ended/).length === 1, 'call ended');
      const everything = bridge.logs.lines.join('\n');
      expect(everything).not.toContain(TEST_API_KEY);
      expect(everything).not.toContain(TEST_AUTH_TOKEN);
    });
  });

  describe('behind a TLS-terminating proxy', () => {
    it('builds a wss:// stream URL from PUBLIC_URL and checks signatures against it', async () => {
      await startWith({ PUBLIC_URL: 'https://voice.example.com' });
      const twilio = (await import('twilio')).default;
      const params = { CallSid: 'CAe3d704f3542b44a621ebed70dc0efe13', From: '+1', To: '+2' };
      const signature = twilio.getExpectedTwilioSignature(
        TEST_AUTH_TOKEN,
        'https://voice.example.com/api/twiml',
        params,
      );
      const response = await postTwiml(bridge.baseUrl, params, { signature });
      expect(response.status).toBe(200);
      expect(parseStreamTwiml(await response.text()).url).toBe(
        'wss://voice.example.com/media-stream',
      );

      const handshake = twilio.getExpectedTwilioSignature(
        TEST_AUTH_TOKEN,
        'wss://voice.example.com/media-stream',
        {},
      );
      const socket = new WebSocket(`${bridge.baseUrl.replace('http', 'ws')}/media-stream`, {
        headers: { 'x-twilio-signature': handshake },
      });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      socket.close();
    });

    it('uses X-Forwarded-Proto and X-Forwarded-Host only when TRUST_PROXY=true', async () => {
      await startWith({ TRUST_PROXY: 'true' });
      const response = await fetch(`${bridge.baseUrl}/api/twiml`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'edge.example.com',
          'x-twilio-signature': (await import('twilio')).default.getExpectedTwilioSignature(
            TEST_AUTH_TOKEN,
            'https://edge.example.com/api/twiml',
            { CallSid: 'CA4cfad7076129962ee70c36839a1e3e15' },
          ),
        },
        body: 'CallSid=CA4cfad7076129962ee70c36839a1e3e15',
      });
      expect(response.status).toBe(200);
      expect(parseStreamTwiml(await response.text()).url).toBe(
        'wss://edge.example.com/media-stream',
      );
    });
  });
});
