import { EventEmitter2 } from '@nestjs/event-emitter';
import { CallEvent } from '../src/events/call-events.js';
import { CallEventFollowers } from '../src/live-calls/call-event-followers.service.js';
import { frames20ms, mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
  testSid,
} from './support/fake-twilio.js';
import { rawConnect, rawUpgrade, statusOf, type RawClient } from './support/raw-http.js';
import { sleep, waitUntil } from './support/wait.js';
import { TEST_API_TOKEN } from './support/secrets.js';

// Issue 11: what an attacker without credentials could do to the bridge, each over real sockets.

describe('hardening', () => {
  let openai: FakeRealtimeServer;
  let rest: FakeTwilioRest;
  let bridge: RunningBridge | undefined;
  const raw: RawClient[] = [];

  async function startWith(env: Record<string, string> = {}): Promise<RunningBridge> {
    bridge = await startBridge({
      OPENAI_REALTIME_URL: openai.url,
      TWILIO_API_BASE_URL: rest.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      ...env,
    });
    return bridge;
  }

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    rest = new FakeTwilioRest();
    await Promise.all([openai.start(), rest.start()]);
  });

  afterEach(async () => {
    for (const client of raw.splice(0)) client.socket.destroy();
    await bridge?.close();
    bridge = undefined;
    await Promise.all([openai.stop(), rest.stop()]);
  });

  describe('authenticate before allocate', () => {
    it('lets a signed call through while 30 unsigned idle upgrades wait, and destroys each within 8 s', async () => {
      const { baseUrl } = await startWith({ MAX_CONCURRENT_CALLS: '5' });
      const openedAt = Date.now();
      for (let i = 0; i < 30; i++) raw.push(await rawUpgrade(baseUrl));
      expect(raw.map(statusOf)).toEqual(Array(30).fill(101));

      const health = (await (await fetch(`${baseUrl}/health`)).json()) as {
        details: { calls: { pending: { unauthenticated: number } } };
      };
      expect(health.details.calls.pending.unauthenticated).toBe(30);
      expect(await (await fetch(`${baseUrl}/metrics`)).text()).toContain(
        'bridge_pending_streams{kind="unauthenticated"} 30',
      );

      // A real call is not refused because of them, and completes.
      const call = await FakeTwilioCall.dial(baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      const audio = mulawTone(440, 200);
      for (const frame of frames20ms(audio)) call.sendMedia(frame);
      await waitUntil(() => upstream.appendedAudio().length === audio.length, 'caller audio');
      call.stop();
      expect(await call.waitForClose()).toBe(1000);

      // Never sent a frame, never answered a close: destroyed, not politely waited on.
      const closedAt = await Promise.all(raw.map((client) => client.closed));
      expect(Math.max(...closedAt) - openedAt).toBeLessThan(8000);
      const after = (await (await fetch(`${baseUrl}/health`)).json()) as {
        details: { calls: { pending: { unauthenticated: number } } };
      };
      expect(after.details.calls.pending.unauthenticated).toBe(0);
      expect(bridge!.logs.matching(/destroyed a media stream with no valid start/)).toHaveLength(
        30,
      );
    }, 30000);

    it('evicts the oldest waiting upgrade beyond MAX_PENDING_STREAMS and still takes a real call', async () => {
      const { baseUrl } = await startWith({ MAX_PENDING_STREAMS: '3', MAX_CONCURRENT_CALLS: '2' });
      for (let i = 0; i < 3; i++) raw.push(await rawUpgrade(baseUrl));
      const fourth = await rawUpgrade(baseUrl);
      raw.push(fourth);
      expect(statusOf(fourth)).toBe(101);
      // The oldest is destroyed (no close frame), the newer ones wait on.
      await raw[0].closed;
      expect(raw[0].received()).not.toContain('\x88');
      const call = await FakeTwilioCall.dial(baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      expect(call.closeCode).toBeUndefined();
      expect(await (await fetch(`${baseUrl}/metrics`)).text()).toMatch(
        /bridge_streams_refused_total\{reason="evicted"\} [12]\n/,
      );
    });

    it('gives an unsigned stream a call slot only once its token is valid, and only if one is free', async () => {
      const { baseUrl } = await startWith({ MAX_CONCURRENT_CALLS: '1' });
      const callSid = testSid('CA');
      const issued = parseStreamTwiml(
        await (await postTwiml(baseUrl, { CallSid: callSid })).text(),
      );
      const first = await FakeTwilioCall.dial(baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      // The unsigned upgrade waits in the pending pool; its valid start finds every slot taken.
      const late = await FakeTwilioCall.open(issued, { callSid, signature: null });
      late.start();
      expect(await late.waitForClose(2000)).toBe(1013);
      expect(openai.connections).toHaveLength(1);
      expect(first.closeCode).toBeUndefined();
    });
  });

  describe('reconnect with memory', () => {
    async function expectBoundedStorm(): Promise<void> {
      const { baseUrl } = await startWith({ FALLBACK_MESSAGE: 'Sorry.' });
      const call = await FakeTwilioCall.dial(baseUrl);
      const redirect = await rest.waitForRequest(undefined, 15000);
      const fellBackAt = Date.now();
      expect(redirect.form.Twiml).toContain('<Say>Sorry.</Say>');
      await call.waitForClose();
      const accepted = openai.acceptedAt;
      expect(accepted.length).toBeGreaterThanOrEqual(3);
      expect(accepted.length).toBeLessThanOrEqual(8);
      expect(fellBackAt - accepted[0]).toBeLessThan(12000);
      const gaps = accepted.slice(1).map((at, i) => at - accepted[i]);
      // Never shrinking (timers on a loaded machine fire late by a few hundred ms at most), and
      // growing overall: the last wait is several times the first.
      for (let i = 1; i < gaps.length; i++)
        expect(gaps[i]).toBeGreaterThanOrEqual(gaps[i - 1] - 500);
      expect(gaps.at(-1)!).toBeGreaterThan(gaps[0] * 4);
      await sleep(500);
      expect(openai.connections).toHaveLength(accepted.length); // nothing after the fallback
      // A storm writes a handful of lines, not thousands.
      expect(bridge!.logs.lines.filter((line) => /OpenAI/.test(line)).length).toBeLessThan(40);
    }

    it('gives an upstream that accepts and resets every connection at most 8, spaced by a growing backoff, then falls back', async () => {
      openai.onConnection = (connection) => connection.socket.terminate();
      await expectBoundedStorm();
    }, 30000);

    it('treats sessions that expire at once (session_expired) the same way', async () => {
      openai.onConnection = (connection) =>
        connection.send({
          type: 'error',
          error: { type: 'invalid_request_error', code: 'session_expired', message: 'expired' },
        });
      await expectBoundedStorm();
    }, 30000);
  });

  describe('bounded server-sent events', () => {
    const api = (baseUrl: string, path: string) =>
      fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${TEST_API_TOKEN}` } });

    it('keeps memory flat with 200 followers that do not read and 5,000 events', async () => {
      const { baseUrl, app } = await startWith({
        API_TOKEN: TEST_API_TOKEN,
        LOG_LEVEL: 'info',
        MAX_SSE_FOLLOWERS: '200',
        MAX_SSE_FOLLOWERS_PER_CALL: '200',
      });
      const call = await FakeTwilioCall.dial(baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');

      for (let i = 0; i < 200; i++) {
        const follower = await rawConnect(
          baseUrl,
          `GET /api/calls/${call.callSid}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
            `Authorization: Bearer ${TEST_API_TOKEN}\r\n\r\n`,
        );
        follower.socket.pause(); // never reads another byte
        raw.push(follower);
      }
      const followers = app.get(CallEventFollowers);
      await waitUntil(() => followers.size === 200, '200 followers');

      const rssBefore = process.memoryUsage().rss;
      const text = 'x'.repeat(1000);
      // Caller turns are published as soon as their transcription completes.
      let published = 0;
      app.get(EventEmitter2).on(CallEvent.Transcript, () => published++);
      for (let i = 0; i < 5000; i++) {
        upstream.send({
          type: 'conversation.item.input_audio_transcription.completed',
          item_id: `i${i}`,
          content_index: 0,
          transcript: `${i} ${text}`,
        });
        if (i % 500 === 0) await sleep(1);
      }
      await waitUntil(() => published === 5000, 'every event published', 30000);
      const growthMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
      // Unbounded, the followers would hold 200 x 5,000 x 1 KB = ~1 GB. The process's RSS (this
      // test's fakes included) moves by tens of MB with GC timing alone: the same code measured
      // 55 and 92 MB at 15,000 events on a busy machine, so the bound leaves that room.
      expect(growthMb).toBeLessThan(100);
      // The followers that did not read were dropped, each with a last comment line.
      expect(followers.size).toBe(0);
      call.stop();
    }, 60000);

    it('answers 404 for an unknown call, 400 for a malformed sid, 429 beyond the per-call limit', async () => {
      const { baseUrl } = await startWith({
        API_TOKEN: TEST_API_TOKEN,
        MAX_SSE_FOLLOWERS_PER_CALL: '1',
      });
      expect((await api(baseUrl, `/api/calls/${testSid('CA')}/events`)).status).toBe(404);
      expect((await api(baseUrl, '/api/calls/CA1/events')).status).toBe(400);
      const call = await FakeTwilioCall.dial(baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      const first = await api(baseUrl, `/api/calls/${call.callSid}/events`);
      expect(first.status).toBe(200);
      expect((await api(baseUrl, `/api/calls/${call.callSid}/events`)).status).toBe(429);
      call.stop();
      expect(await first.text()).toMatch(/event: call.ended/);
      // Recently ended: a stream that says so and ends, not one that hangs forever.
      const late = await api(baseUrl, `/api/calls/${call.callSid}/events`);
      expect(late.status).toBe(200);
      expect(await late.text()).toContain(': the call has already ended');
    });

    it('ends a stream after SSE_MAX_DURATION_S', async () => {
      const { baseUrl } = await startWith({ API_TOKEN: TEST_API_TOKEN, SSE_MAX_DURATION_S: '1' });
      const call = await FakeTwilioCall.dial(baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      const started = Date.now();
      const text = await (await api(baseUrl, `/api/calls/${call.callSid}/events`)).text();
      expect(Date.now() - started).toBeLessThan(3000);
      expect(text).toContain(': maximum follow time reached');
      expect(call.closeCode).toBeUndefined();
    });
  });

  describe('replays', () => {
    it('gives a replayed webhook for a call that has its stream no <Stream>', async () => {
      const { baseUrl } = await startWith();
      const call = await FakeTwilioCall.dial(baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      const fields = {
        CallSid: call.callSid,
        From: '+15550001111',
        To: '+15550002222',
        AccountSid: TEST_ACCOUNT_SID,
      };
      const live = await postTwiml(baseUrl, fields);
      expect(live.status).toBe(200);
      expect(await live.text()).not.toContain('<Stream');
      call.stop();
      await call.waitForClose();
      const ended = await postTwiml(baseUrl, fields);
      expect(await ended.text()).not.toContain('<Stream');
      expect(bridge!.logs.matching(/already has a stream: no new <Stream>/)).toHaveLength(2);
    });

    it('refuses a re-split CallSid: same signature, no <Stream>', async () => {
      const { baseUrl } = await startWith();
      const twilio = (await import('twilio')).default;
      const callSid = testSid('CA');
      const url = `${baseUrl}/api/twiml`;
      // Twilio signs keys and values concatenated: these two bodies carry the same signature.
      const signature = twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, {
        CallSid: callSid,
        CallStatus: 'ringing',
      });
      const resplit = { CallSid: `${callSid}CallStatusringing` };
      expect(twilio.validateRequest(TEST_AUTH_TOKEN, signature, url, resplit)).toBe(true);
      const response = await postTwiml(baseUrl, resplit, { signature });
      expect(response.status).toBe(400);
      expect(await response.text()).not.toContain('<Stream');
    });

    it('refuses a second stream for a call, even with its own valid token', async () => {
      const { baseUrl } = await startWith();
      const callSid = testSid('CA');
      const stream = parseStreamTwiml(
        await (await postTwiml(baseUrl, { CallSid: callSid })).text(),
      );
      const first = await FakeTwilioCall.open(stream, { callSid });
      first.start();
      await (await openai.connection(0)).waitFor('session.update');
      first.stop();
      await first.waitForClose();
      const again = await FakeTwilioCall.open(stream, { callSid, signature: null });
      again.start();
      expect(await again.waitForClose(2000)).toBe(1008);
      expect(openai.connections).toHaveLength(1);
    });
  });

  it('drops a 6 MB audio delta and keeps the call working', async () => {
    const { baseUrl } = await startWith();
    const call = await FakeTwilioCall.dial(baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    upstream.send({
      type: 'response.output_audio.delta',
      response_id: 'resp_1',
      item_id: 'item_1',
      output_index: 0,
      content_index: 0,
      delta: 'A'.repeat(6 * 1024 * 1024),
    });
    const audio = mulawTone(440, 100);
    const sentAt = Date.now();
    upstream.audioDelta('resp_2', 'item_2', audio);
    await waitUntil(
      () => call.receivedAudio().equals(audio),
      'the next response at the caller',
      3000,
    );
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(call.closeCode).toBeUndefined();
    expect(
      bridge!.logs.matching(/dropped invalid OpenAI event: audio delta of 6291456 characters/),
    ).toHaveLength(1);
  });

  it('forwards media sent at 10x real time at no more than real time, and closes a stream that keeps it up', async () => {
    const { baseUrl } = await startWith();
    const call = await FakeTwilioCall.dial(baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    const frame = mulawTone(440, 20);
    const startedAt = Date.now();
    // 10 frames (200 ms of audio) every 20 ms, for one second.
    while (Date.now() - startedAt < 1000) {
      for (let i = 0; i < 10; i++) call.sendMedia(frame);
      await sleep(20);
    }
    const elapsedS = (Date.now() - startedAt) / 1000;
    await sleep(300);
    const forwardedS = upstream.appendedAudio().length / 8000;
    // Real time, plus the one-second burst allowance.
    expect(forwardedS).toBeLessThanOrEqual(elapsedS + 1.05);
    expect(forwardedS).toBeGreaterThan(elapsedS * 0.5);
    expect(call.closeCode).toBeUndefined();

    const keptUp = setInterval(() => {
      for (let i = 0; i < 10; i++) call.sendMedia(frame);
    }, 20);
    try {
      expect(await call.waitForClose(5000)).toBe(1008);
    } finally {
      clearInterval(keptUp);
    }
    expect(bridge!.logs.matching(/call ended.*faster than real time/)).toHaveLength(1);
  });
});
