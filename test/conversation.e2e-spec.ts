import twilio from 'twilio';
import { mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_AUTH_TOKEN,
} from './support/fake-twilio.js';
import { measureLoopLateness } from './support/loop-lateness.js';
import { sleep, waitUntil } from './support/wait.js';

/**
 * Issue 13's "done means", over real sockets: a Twilio that plays in real time and echoes
 * marks as Twilio does, the fake Realtime server, the fake Twilio REST API.
 */
describe('what the caller heard is what the model remembers', () => {
  let openai: FakeRealtimeServer;
  let rest: FakeTwilioRest;
  let bridge: RunningBridge;

  async function startWith(env: Record<string, string> = {}) {
    bridge = await startBridge({
      OPENAI_REALTIME_URL: openai.url,
      TWILIO_API_BASE_URL: rest.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      ...env,
    });
  }

  async function dial(): Promise<{ call: FakeTwilioCall; upstream: FakeRealtimeConnection }> {
    const call = await FakeTwilioCall.dial(bridge.baseUrl, { playInRealTime: true });
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${bridge.baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : 0;
  };

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    rest = new FakeTwilioRest();
    await Promise.all([openai.start(), rest.start()]);
  });

  afterEach(async () => {
    await bridge?.close();
    await Promise.all([openai.stop(), rest.stop()]);
  });

  describe('barge-in truncates at what the caller heard', () => {
    beforeEach(() => startWith());

    it.each([20, 600, 3000])('within 20 ms with %i ms deltas', async (deltaMs) => {
      const { call, upstream } = await dial();
      // The fake Twilio stamps playback and the clear when this process gets to them.
      const stopMeasuring = measureLoopLateness();
      // 6 s of reply, sent at once (OpenAI sends faster than real time).
      const reply = mulawTone(300, 6000);
      const bytes = deltaMs * 8;
      for (let at = 0; at < reply.length; at += bytes) {
        upstream.audioDelta('resp_1', 'item_1', reply.subarray(at, at + bytes));
      }
      await waitUntil(() => call.playback!.playing, 'playback at Twilio');
      // The caller talks 1.5 s into playback, by Twilio's own clock.
      await sleep(call.playback!.runStartedAt + 1500 - performance.now());
      upstream.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'u' });
      const truncate = await upstream.waitFor('conversation.item.truncate');
      await call.waitFor('clear');
      const stampLateMs = stopMeasuring();
      const heard = call.playback!.clears[0].playedMs;
      expect(heard).toBeGreaterThan(1400);
      expect(truncate.item_id).toBe('item_1');
      expect(Math.abs((truncate.audio_end_ms as number) - heard)).toBeLessThanOrEqual(
        20 + stampLateMs,
      );
      // A mark per ~100 ms of audio at most (plus none for a delta shorter than that).
      const marks = call.framesOf('mark').length;
      expect(marks).toBeLessThanOrEqual(Math.ceil(6000 / Math.max(deltaMs, 100)) + 1);
    });

    it('times the barge-in to Twilio confirming the clear, and records it', async () => {
      const { call, upstream } = await dial();
      upstream.audioDelta('resp_1', 'item_1', mulawTone(300, 2000));
      await waitUntil(() => call.playback!.playing, 'playback');
      await sleep(200);
      upstream.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'u' });
      await call.waitFor('clear');
      for (
        let i = 0;
        i < 100 && (await metric('bridge_barge_in_reaction_seconds_count')) < 1;
        i++
      ) {
        await sleep(20);
      }
      expect(await metric('bridge_barge_in_reaction_seconds_count')).toBe(1);
      expect(await metric('bridge_barge_in_reaction_seconds_sum')).toBeLessThan(1);
      call.stop();
      await waitUntil(() => bridge.logs.matching(/call ended/).length === 1, 'the call record');
      expect(bridge.logs.matching(/call ended/)[0]).toMatch(/barge-in reaction avg [\d.]+ ms/);
    });
  });

  it('re-seeds a new session with the conversation as lived, in order', async () => {
    await startWith();
    const { call, upstream } = await dial();
    // The caller speaks; the server places the turn, but its transcription comes late.
    upstream.send({
      type: 'input_audio_buffer.committed',
      item_id: 'item_u1',
      previous_item_id: null,
    });
    upstream.send({
      type: 'conversation.item.added',
      previous_item_id: 'item_u1',
      item: {
        id: 'item_a1',
        type: 'message',
        role: 'assistant',
        status: 'in_progress',
        content: [],
      },
    });
    const words = 'Our branches are in Lyon, Paris, Lille, Nantes, Nice and Rennes.';
    upstream.send({ type: 'response.created', response: { id: 'resp_1', metadata: null } });
    upstream.audioDelta('resp_1', 'item_a1', mulawTone(300, 4000));
    upstream.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_1',
      item_id: 'item_a1',
      content_index: 0,
      transcript: words,
    });
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      content_index: 0,
      transcript: 'Where are you?',
    });
    await waitUntil(() => call.playback!.playing, 'playback');
    await sleep(call.playback!.runStartedAt + 1000 - performance.now());
    // The caller interrupts after a quarter of the reply, then types a branch number.
    upstream.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'u2' });
    await upstream.waitFor('conversation.item.truncate');
    upstream.send({ type: 'response.done', response: { id: 'resp_1', status: 'cancelled' } });
    call.send({
      event: 'dtmf',
      streamSid: call.streamSid,
      dtmf: { track: 'inbound_track', digit: '4' },
    });
    const keypad = await upstream.waitFor('conversation.item.create');
    // The model looks the branch up.
    await upstream.waitFor('response.create');
    const responseId = upstream.responseIds.at(-1)!;
    upstream.send({
      type: 'response.function_call_arguments.done',
      response_id: responseId,
      item_id: 'item_f1',
      output_index: 0,
      call_id: 'call_1',
      name: 'end_call',
      arguments: '{"reason":"done"}',
    });
    upstream.send({
      type: 'conversation.item.added',
      previous_item_id: (keypad.item as { id: string }).id,
      item: {
        id: 'item_f1',
        type: 'function_call',
        call_id: 'call_1',
        name: 'end_call',
        arguments: '{"reason":"done"}',
      },
    });
    await upstream.waitFor(
      'conversation.item.create',
      (e) => (e.item as { type: string }).type === 'function_call_output',
    );

    upstream.socket.terminate();
    const second = await openai.connection(1);
    await second.waitFor('session.update');
    await waitUntil(() => second.eventsOfType('conversation.item.create').length >= 5, 're-seed');
    const items = second
      .eventsOfType('conversation.item.create')
      .map((e) => e.item as Record<string, any>);
    expect(
      items.map((item): unknown[] => [item.type, item.role ?? item.name ?? item.call_id]),
    ).toEqual([
      ['message', 'user'],
      ['message', 'assistant'],
      ['message', 'user'],
      ['function_call', 'end_call'],
      ['function_call_output', 'call_1'],
    ]);
    expect(items[0].content[0].text).toBe('Where are you?');
    const cut: string = items[1].content[0].text;
    expect(items[1].status).toBe('incomplete');
    expect(words.startsWith(cut)).toBe(true);
    // About a quarter of the words, cut at a word boundary.
    expect(cut.length).toBeGreaterThan(words.length * 0.15);
    expect(cut.length).toBeLessThan(words.length * 0.3);
    expect(words[cut.length]).toBe(' ');
    expect(items[2].content[0].text).toMatch(/pressed 4/);
    expect(items[4].output).toMatch(/ok|error/);
  });

  describe('responses that fail or stop short are heard about and recovered', () => {
    it('retries a failed response once, with a warning and a metric', async () => {
      await startWith();
      const { upstream } = await dial();
      upstream.send({ type: 'response.created', response: { id: 'resp_vad', metadata: null } });
      upstream.send({
        type: 'response.done',
        response: {
          id: 'resp_vad',
          status: 'failed',
          status_details: {
            type: 'failed',
            error: { type: 'server_error', code: 'server_error', message: 'boom' },
          },
        },
      });
      const retry = await upstream.waitFor('response.create');
      expect(retry.event_id).toMatch(/^resp-/);
      expect(
        bridge.logs.matching(
          /warn .*response resp_vad failed \(server_error: boom\); retrying once/,
        ),
      ).toHaveLength(1);
      expect(
        await metric(
          'bridge_openai_response_problems_total{status="failed",reason="server_error"}',
        ),
      ).toBe(1);

      // The retry fails too: the caller is handed to the fallback rather than left in silence.
      const retryId = upstream.responseIds.at(-1)!;
      upstream.send({
        type: 'response.done',
        response: {
          id: retryId,
          status: 'failed',
          status_details: { error: { code: 'server_error' } },
        },
      });
      const redirect = await rest.waitForRequest();
      expect(redirect.form.Twiml).toMatch(/<Say>/);
    });

    it('follows an incomplete response with the profile recovery sentence', async () => {
      await startWith({
        CALL_PROFILES: JSON.stringify({ support: { recovery: 'Pardon me, where were we?' } }),
      });
      const response = await postTwiml(
        bridge.baseUrl,
        { CallSid: 'CA' + '1'.repeat(32) },
        { path: '/api/twiml?profile=support' },
      );
      const stream = parseStreamTwiml(await response.text());
      const call = await FakeTwilioCall.open(stream, {
        callSid: 'CA' + '1'.repeat(32),
        playInRealTime: true,
      });
      call.start();
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      upstream.send({ type: 'response.created', response: { id: 'resp_1', metadata: null } });
      upstream.send({
        type: 'response.done',
        response: {
          id: 'resp_1',
          status: 'incomplete',
          status_details: { type: 'incomplete', reason: 'content_filter' },
        },
      });
      const recovery = await upstream.waitFor('response.create');
      expect((recovery.response as { instructions: string }).instructions).toContain(
        'Pardon me, where were we?',
      );
      expect(bridge.logs.matching(/warn .*resp_1 incomplete \(content_filter\)/)).toHaveLength(1);
      expect(
        await metric(
          'bridge_openai_response_problems_total{status="incomplete",reason="content_filter"}',
        ),
      ).toBe(1);
      // The recovery is spoken: its audio reaches the caller.
      upstream.audioDelta(upstream.responseIds[0], 'item_r', mulawTone(300, 200));
      await call.waitFor('media');
    });
  });

  describe('key presses', () => {
    it('interrupt playback: clear, truncate at the heard position, response.cancel', async () => {
      await startWith();
      const { call, upstream } = await dial();
      upstream.send({ type: 'response.created', response: { id: 'resp_1', metadata: null } });
      upstream.audioDelta('resp_1', 'item_1', mulawTone(300, 3000));
      await waitUntil(() => call.playback!.playing, 'playback');
      await sleep(call.playback!.runStartedAt + 700 - performance.now());
      call.send({
        event: 'dtmf',
        streamSid: call.streamSid,
        dtmf: { track: 'inbound_track', digit: '1' },
      });
      const truncate = await upstream.waitFor('conversation.item.truncate');
      await call.waitFor('clear');
      expect(
        Math.abs((truncate.audio_end_ms as number) - call.playback!.clears[0].playedMs),
      ).toBeLessThanOrEqual(20);
      expect(await upstream.waitFor('response.cancel')).toMatchObject({ response_id: 'resp_1' });
    });

    it('do not interrupt with DTMF_INTERRUPTS=false', async () => {
      await startWith({ DTMF_INTERRUPTS: 'false' });
      const { call, upstream } = await dial();
      upstream.audioDelta('resp_1', 'item_1', mulawTone(300, 1000));
      await waitUntil(() => call.playback!.playing, 'playback');
      call.send({
        event: 'dtmf',
        streamSid: call.streamSid,
        dtmf: { track: 'inbound_track', digit: '1' },
      });
      await sleep(200);
      expect(call.framesOf('clear')).toHaveLength(0);
      expect(upstream.eventsOfType('conversation.item.truncate')).toHaveLength(0);
    });
  });

  describe('Twilio stream status', () => {
    beforeEach(() => startWith());

    it('asks Twilio for stream status at a signed route that logs and counts stream-error', async () => {
      const response = await postTwiml(bridge.baseUrl, { CallSid: 'CA' + '2'.repeat(32) });
      const xml = await response.text();
      const url = /statusCallback="([^"]+)"/.exec(xml)?.[1];
      expect(url).toBe(`${bridge.baseUrl}/api/stream-status`);
      const params = {
        AccountSid: 'AC' + '0'.repeat(31) + '1',
        CallSid: 'CA' + '2'.repeat(32),
        StreamSid: 'MZ' + '3'.repeat(32),
        StreamEvent: 'stream-error',
        StreamError: 'Handshake failed (31920)',
        Timestamp: new Date().toISOString(),
      };
      const post = (signature: string | undefined) =>
        fetch(url!, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(signature ? { 'x-twilio-signature': signature } : {}),
          },
          body: new URLSearchParams(params).toString(),
        });
      expect((await post(undefined)).status).toBe(403);
      expect(
        (await post(twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url!, params))).status,
      ).toBe(204);
      expect(bridge.logs.matching(/warn .*stream-error: Handshake failed \(31920\)/)).toHaveLength(
        1,
      );
      expect(await metric('bridge_twilio_stream_events_total{event="stream-error"}')).toBe(1);
    });
  });

  it('names the client event an error is about', async () => {
    await startWith();
    const { call, upstream } = await dial();
    upstream.audioDelta('resp_1', 'item_1', mulawTone(300, 1000));
    await waitUntil(() => call.playback!.playing, 'playback');
    upstream.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'u' });
    const truncate = await upstream.waitFor('conversation.item.truncate');
    expect(truncate.event_id).toMatch(/^trunc-/);
    upstream.send({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        code: 'x',
        message: 'Audio content is shorter',
        event_id: truncate.event_id,
      },
    });
    await waitUntil(
      () =>
        bridge.logs.matching(/about conversation\.item\.truncate trunc-\w+ \(item_1 at \d+ ms\)/)
          .length === 1,
      'error line',
    );
    // Every client event carries an event_id.
    expect(upstream.received.every((event) => typeof event.event_id === 'string')).toBe(true);
  });
});
