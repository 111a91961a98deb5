import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { frames20ms, mulawTone } from './support/audio.js';
import { startBridge, TEST_API_KEY, type RunningBridge } from './support/bridge.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_ACCOUNT_SID,
  TEST_AUTH_TOKEN,
} from './support/fake-twilio.js';
import { sleep, waitUntil } from './support/wait.js';

/**
 * Heap in use after a full garbage collection: what is held, not garbage waiting to be freed
 * (without it, when V8 happens to collect decides the result; Node 24 collects later than 20).
 */
function retainedHeap(): number {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

describe('faults and limits', () => {
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

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    rest = new FakeTwilioRest();
    await Promise.all([openai.start(), rest.start()]);
  });

  afterEach(async () => {
    await bridge?.close();
    await Promise.all([openai.stop(), rest.stop()]);
  });

  describe('when the OpenAI side fails', () => {
    it('reconnects a call whose OpenAI socket dies, re-seeds the transcript, and resumes caller audio', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const first = await openai.connection(0);
      await first.waitFor('session.update');
      first.send({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: 'item_u1',
        content_index: 0,
        transcript: 'What are your opening hours?',
      });
      first.send({
        type: 'response.output_audio_transcript.done',
        response_id: 'resp_1',
        item_id: 'item_a1',
        output_index: 0,
        content_index: 0,
        transcript: 'We are open nine to five.',
      });
      await sleep(50);

      const lostAt = Date.now();
      first.socket.terminate();
      const second = await openai.connection(1);
      await second.waitFor('session.update');
      expect(Date.now() - lostAt).toBeLessThan(3000);
      expect(second.received[0].type).toBe('session.update');
      const seeded = second.eventsOfType('conversation.item.create').map((event) => event.item);
      expect(seeded).toEqual([
        {
          id: 'item_u1',
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: 'What are your opening hours?' }],
        },
        {
          id: 'item_a1',
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: 'We are open nine to five.' }],
        },
      ]);

      const audio = mulawTone(440, 100);
      for (const frame of frames20ms(audio)) call.sendMedia(frame);
      await waitUntil(
        () => second.appendedAudio().length === audio.length,
        'audio on the new session',
      );
      expect(call.closeCode).toBeUndefined();
      expect(bridge.logs.matching(/OpenAI Realtime reconnected in \d+ ms/)).toHaveLength(1);
      expect(
        bridge.logs.matching(/re-seeded the new session with 2 conversation items/),
      ).toHaveLength(1);
    });

    it('asks the new session for an answer when the lost one was giving one, and not otherwise', async () => {
      await startWith();
      await FakeTwilioCall.dial(bridge.baseUrl);
      const first = await openai.connection(0);
      await first.waitFor('session.update');
      first.send({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: 'item_u1',
        content_index: 0,
        transcript: 'And on Sundays?',
      });
      // The server's own (VAD) response is under way when the socket goes.
      first.send({ type: 'response.created', response: { id: 'resp_2', metadata: null } });
      await sleep(50);
      first.socket.terminate();
      const second = await openai.connection(1);
      await second.waitFor('session.update');
      const create = await second.waitFor('response.create');
      // A plain request: the session's own instructions answer the re-seeded question.
      expect((create.response as { instructions?: string }).instructions).toBeUndefined();
      expect(second.received.at(-1)?.type).toBe('response.create');

      // Lost again with nothing under way: no answer is asked for.
      second.send({ type: 'response.created', response: { id: 'resp_3', metadata: null } });
      second.send({ type: 'response.done', response: { id: 'resp_3', status: 'completed' } });
      await sleep(50);
      second.socket.terminate();
      const third = await openai.connection(2);
      await third.waitFor('session.update');
      await sleep(200);
      expect(third.eventsOfType('response.create')).toHaveLength(0);
    });

    it('does not ask again for an answer the caller talked over, or whose audio was all sent', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const first = await openai.connection(0);
      await first.waitFor('session.update');
      // The caller talks over an answer, and the session goes before its response.done.
      first.send({ type: 'response.created', response: { id: 'resp_1', metadata: null } });
      first.audioDelta('resp_1', 'item_a1', mulawTone(300, 1000));
      await waitUntil(() => call.received.some((f) => f.event === 'media'), 'the answer plays');
      first.speechStarted();
      await waitUntil(() => call.received.some((f) => f.event === 'clear'), 'the clear');
      first.socket.terminate();
      const second = await openai.connection(1);
      await second.waitFor('session.update');

      // An answer whose audio the server finished, lost before its response.done.
      second.send({ type: 'response.created', response: { id: 'resp_2', metadata: null } });
      second.audioDelta('resp_2', 'item_a2', mulawTone(300, 200));
      second.audioDone('resp_2', 'item_a2');
      await sleep(50);
      second.socket.terminate();
      const third = await openai.connection(2);
      await third.waitFor('session.update');
      await sleep(200);
      expect(second.eventsOfType('response.create')).toHaveLength(0);
      expect(third.eventsOfType('response.create')).toHaveLength(0);
    });

    it('sends the caller audio held while reconnecting before it asks the new session to answer', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const first = await openai.connection(0);
      await first.waitFor('session.update');
      first.send({ type: 'response.created', response: { id: 'resp_1', metadata: null } });
      await sleep(50);
      openai.acceptDelayMs = 600;
      first.socket.terminate();
      await sleep(150); // the bridge has seen the socket go, and waits for the next
      const held = mulawTone(440, 100);
      for (const frame of frames20ms(held)) call.sendMedia(frame);
      const second = await openai.connection(1);
      await second.waitFor('response.create');
      const types = second.received.map((event) => event.type);
      expect(types.filter((type) => type === 'input_audio_buffer.append')).toHaveLength(5);
      expect(types.at(-1)).toBe('response.create');
    });

    it('opens a new session when the old one reaches its time limit (session_expired)', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const first = await openai.connection(0);
      await first.waitFor('session.update');
      first.send({
        type: 'error',
        error: {
          type: 'invalid_request_error',
          code: 'session_expired',
          message: 'Your session hit the maximum duration of 60 minutes.',
        },
      });
      first.socket.close(1000);
      await (await openai.connection(1)).waitFor('session.update');
      expect(call.closeCode).toBeUndefined();
    });

    it('fails at once on a refused API key, and hands the caller to the fallback with an apology and a dial', async () => {
      openai.rejectWithStatus = 401;
      await startWith({
        FALLBACK_MESSAGE: 'Sorry, one moment please.',
        FALLBACK_DIAL: '+15559990000',
      });
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const redirect = await rest.waitForRequest();
      expect(redirect.method).toBe('POST');
      expect(redirect.path).toBe(
        `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls/${call.callSid}.json`,
      );
      expect(redirect.form.Twiml).toBe(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Sorry, one moment please.</Say><Dial>+15559990000</Dial></Response>',
      );
      expect(redirect.authorization).toBe(
        `Basic ${Buffer.from(`${TEST_ACCOUNT_SID}:${TEST_AUTH_TOKEN}`).toString('base64')}`,
      );
      await call.waitForClose();
      expect(bridge.logs.matching(/OpenAI rejected the API key \(HTTP 401\)/)).toHaveLength(2);
      // One attempt only: a refused key does not get better by retrying.
      expect(bridge.logs.matching(/retrying/)).toHaveLength(0);
    });

    it('retries a 503 from OpenAI with backoff and carries on when it succeeds', async () => {
      openai.rejectWithStatus = 503;
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      await waitUntil(
        () => bridge.logs.matching(/attempt 1 failed \(HTTP 503\); retrying/).length === 1,
        'a retry',
      );
      openai.rejectWithStatus = undefined;
      await (await openai.connection(0)).waitFor('session.update');
      expect(call.closeCode).toBeUndefined();
    });

    it('gives up after bounded retries and apologises with a hang-up when no FALLBACK_DIAL is set', async () => {
      openai.rejectWithStatus = 500;
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      // Six attempts over ~8.5 s of growing backoff (ReconnectPolicy), then the fallback.
      const redirect = await rest.waitForRequest(undefined, 15000);
      expect(redirect.form.Twiml).toMatch(
        /<Say>Sorry, our assistant is having technical difficulties right now.<\/Say><Hangup\/>/,
      );
      await call.waitForClose();
      expect(
        bridge.logs.matching(/could not connect to OpenAI Realtime after 6 attempts \(HTTP 500\)/),
      ).toHaveLength(2);
    });

    it('times out a connection that never completes (OPENAI_CONNECT_TIMEOUT_MS) and retries it', async () => {
      openai.acceptDelayMs = 1000;
      await startWith({ OPENAI_CONNECT_TIMEOUT_MS: '200' });
      await FakeTwilioCall.dial(bridge.baseUrl);
      await waitUntil(
        () => bridge.logs.matching(/attempt 1 failed.*retrying/).length === 1,
        'a timed-out attempt',
      );
    });

    it('reaches the fallback within OPENAI_CONNECT_DEADLINE_MS when OpenAI accepts TCP but never answers the upgrade', async () => {
      // Reads the upgrade request and never writes a byte: every attempt hangs until cut.
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('data', () => undefined);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as net.AddressInfo;
      try {
        const deadlineMs = 3000;
        // With the default 5 s attempt timeout, six hanging attempts and their backoff would be
        // 38.5 s of dead air; the episode's deadline cuts it to 3 s.
        await startWith({
          OPENAI_REALTIME_URL: `ws://127.0.0.1:${port}/v1/realtime`,
          OPENAI_CONNECT_DEADLINE_MS: String(deadlineMs),
        });
        const dialledAt = Date.now();
        const call = await FakeTwilioCall.dial(bridge.baseUrl);
        const redirect = await rest.waitForRequest(undefined, deadlineMs + 2000);
        const elapsed = Date.now() - dialledAt;
        expect(redirect.form.Twiml).toMatch(
          /<Say>Sorry, our assistant is having technical difficulties right now.<\/Say><Hangup\/>/,
        );
        expect(elapsed).toBeLessThan(deadlineMs + 1500);
        await call.waitForClose();
        expect(sockets.size).toBeGreaterThanOrEqual(1);
        expect(
          bridge.logs.matching(/could not connect to OpenAI Realtime after \d+ attempts/).length,
        ).toBeGreaterThanOrEqual(1);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('logs non-fatal OpenAI errors with their code and goes on; ends the call on fatal ones', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      upstream.send({
        type: 'error',
        error: {
          type: 'invalid_request_error',
          code: 'conversation_already_has_active_response',
          message: 'busy',
        },
      });
      await waitUntil(
        () =>
          bridge.logs.matching(/OpenAI error conversation_already_has_active_response: busy/)
            .length === 1,
        'warn',
      );
      expect(call.closeCode).toBeUndefined();

      upstream.send({
        type: 'error',
        error: { type: 'invalid_request_error', code: 'insufficient_quota', message: 'quota' },
      });
      await rest.waitForRequest();
      await call.waitForClose();
    });
  });

  describe('bad input from Twilio', () => {
    it('drops garbage frames with a log line and keeps the call', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      call.socket.send('not json at all');
      call.socket.send(Buffer.from([1, 2, 3]), { binary: true });
      call.send({ event: 'media', streamSid: call.streamSid, media: { payload: '@@@@' } });
      call.send({ event: 'party', streamSid: call.streamSid });
      call.start();
      const audio = mulawTone(440, 40);
      for (const frame of frames20ms(audio)) call.sendMedia(frame);
      await waitUntil(
        () => upstream.appendedAudio().length === audio.length,
        'good audio still flows',
      );
      call.stop();
      await waitUntil(
        () => bridge.logs.matching(/call ended.*dropped 5/).length === 1,
        'drops counted',
      );
      expect(bridge.logs.matching(/dropped Twilio frame: not JSON/)).toHaveLength(1);
    });

    it('closes a stream that sends a frame over 64 KiB', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      call.socket.send('x'.repeat(65 * 1024));
      expect(await call.waitForClose()).toBe(1009);
      await waitUntil(() => bridge.logs.matching(/call ended.*64 KiB/).length === 1, 'a log line');
    });

    it('refuses a start whose accountSid is not TWILIO_ACCOUNT_SID', async () => {
      await startWith({ TWILIO_ACCOUNT_SID: 'AC99999999999999999999999999999999' });
      const stream = parseStreamTwiml(
        await (
          await postTwiml(bridge.baseUrl, { CallSid: 'CAb1ea8fe89446b0e1be6a57e15fb8df81' })
        ).text(),
      );
      const call = await FakeTwilioCall.open(stream, {
        callSid: 'CAb1ea8fe89446b0e1be6a57e15fb8df81',
      });
      call.start();
      expect(await call.waitForClose(2000)).toBe(1008);
      expect(
        bridge.logs.matching(
          /refused media stream for callSid=CAb1ea8fe89446b0e1be6a57e15fb8df81: start.accountSid/,
        ),
      ).toHaveLength(1);
      expect(openai.connections).toHaveLength(0);
    });

    it('refuses a replayed start for a call that has ended', async () => {
      await startWith();
      const stream = parseStreamTwiml(
        await (
          await postTwiml(bridge.baseUrl, { CallSid: 'CAe20ecc86bf1f516d06c2de6d0e2bb656' })
        ).text(),
      );
      const call = await FakeTwilioCall.open(stream, {
        callSid: 'CAe20ecc86bf1f516d06c2de6d0e2bb656',
      });
      call.start();
      await (await openai.connection(0)).waitFor('session.update');
      call.stop();
      await call.waitForClose();

      const replay = await FakeTwilioCall.open(stream, {
        callSid: 'CAe20ecc86bf1f516d06c2de6d0e2bb656',
      });
      replay.start();
      expect(await replay.waitForClose(2000)).toBe(1008);
      expect(
        bridge.logs.matching(
          /refused media stream for callSid=CAe20ecc86bf1f516d06c2de6d0e2bb656: this call has already ended/,
        ),
      ).toHaveLength(1);
      expect(openai.connections).toHaveLength(1);
    });
  });

  describe('limits', () => {
    it('answers busy TwiML and refuses the stream at start (1013) beyond MAX_CONCURRENT_CALLS', async () => {
      await startWith({ MAX_CONCURRENT_CALLS: '1' });
      const waiting = 'CAc1f4116278851cff833359ff16f888e2';
      const issued = parseStreamTwiml(
        await (await postTwiml(bridge.baseUrl, { CallSid: waiting })).text(),
      );
      await FakeTwilioCall.dial(bridge.baseUrl);
      await (await openai.connection(0)).waitFor('session.update');
      const busy = await (
        await postTwiml(bridge.baseUrl, { CallSid: 'CAc1f4116278851cff833359ff16f888e1' })
      ).text();
      expect(busy).toMatch(/<Say>.*busy.*<\/Say><Hangup\/>/);
      expect(busy).not.toContain('<Stream');
      // A signed upgrade proves nothing (the signature is the same for every call): it is
      // accepted, and its valid `start` finds every slot taken.
      const late = await FakeTwilioCall.open(issued, { callSid: waiting });
      late.start();
      expect(await late.waitForClose(2000)).toBe(1013);
      expect(openai.connections).toHaveLength(1);
    });

    it('says goodbye at MAX_CALL_DURATION_S and ends the call once the goodbye has played', async () => {
      await startWith({ MAX_CALL_DURATION_S: '1' });
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      const keepAlive = setInterval(() => call.sendMedia(mulawTone(440, 20)), 20);
      try {
        const goodbye = await upstream.waitFor('response.create');
        expect(JSON.stringify(goodbye)).toMatch(/goodbye/);
        expect(call.closeCode).toBeUndefined();
        const id = upstream.responseIds[0];
        upstream.audioDelta(id, 'item_bye', mulawTone(300, 100));
        upstream.audioDone(id, 'item_bye');
        upstream.send({ type: 'response.done', response: { id, status: 'completed' } });
        expect(await call.waitForClose()).toBe(1000);
        expect(call.framesOf('media')).toHaveLength(1);
      } finally {
        clearInterval(keepAlive);
      }
    });

    it('ends a call whose Twilio stream stops sending media (MEDIA_IDLE_TIMEOUT_S)', async () => {
      await startWith({ MEDIA_IDLE_TIMEOUT_S: '2' });
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      expect(await call.waitForClose(4000)).toBe(1000);
      await upstream.waitForClose();
      expect(bridge.logs.matching(/call ended.*no media from Twilio for 2 s/)).toHaveLength(1);
    });

    it('bounds what it queues for a caller that stops reading, dropping the oldest audio', async () => {
      await startWith();
      const call = await FakeTwilioCall.dial(bridge.baseUrl);
      const upstream = await openai.connection(0);
      await upstream.waitFor('session.update');
      // The caller's TCP socket stops reading: the bridge's send buffer to it fills up.
      call.socket.pause();
      const second = mulawTone(300, 1000);
      for (let i = 0; i < 600; i++) upstream.audioDelta('resp_1', 'item_1', second);
      await sleep(500);
      const heapBefore = retainedHeap();
      for (let i = 0; i < 600; i++) upstream.audioDelta('resp_1', 'item_1', second);
      await sleep(500);
      // Twenty minutes of audio (far more than the kernel's socket buffers hold) could not be delivered; what is held for it must not have grown with it.
      // Held, those 600 s would be over 6 MB of Twilio frames; the bound keeps them near zero.
      expect(retainedHeap() - heapBefore).toBeLessThan(4 * 1024 * 1024);
      call.socket.terminate();
      await waitUntil(
        () => bridge.logs.matching(/call ended.*dropped [1-9]\d+/).length === 1,
        'drops counted in the call record',
      );
    });
  });

  it('never shows the API key or the auth token in logs, errors or health output', async () => {
    openai.rejectWithStatus = 401;
    await startWith({ LOG_LEVEL: 'trace' });
    const call = await FakeTwilioCall.dial(bridge.baseUrl);
    await call.waitForClose();
    await postTwiml(
      bridge.baseUrl,
      { CallSid: 'CA185dda9216b0f288a7776bc17dab26ed' },
      { signature: 'bad' },
    );
    const outputs = [
      bridge.logs.lines.join('\n'),
      await (await fetch(`${bridge.baseUrl}/health`)).text(),
      await (await fetch(`${bridge.baseUrl}/health/ready`)).text(),
      await (
        await postTwiml(
          bridge.baseUrl,
          { CallSid: 'CA185dda9216b0f288a7776bc17dab26ed' },
          { signature: 'bad' },
        )
      ).text(),
    ];
    for (const output of outputs) {
      expect(output).not.toContain(TEST_API_KEY);
      expect(output).not.toContain(TEST_AUTH_TOKEN);
    }
  });

  describe('twenty calls at once', () => {
    it('keeps every other call whole while one loses OpenAI, one sends garbage and one oversizes', async () => {
      await startWith();
      const calls: FakeTwilioCall[] = [];
      // One at a time, so call i is served by OpenAI connection i.
      for (let i = 0; i < 20; i++) {
        calls.push(await FakeTwilioCall.dial(bridge.baseUrl));
        await (await openai.connection(i)).waitFor('session.update');
      }
      const upstreamOf = (call: FakeTwilioCall) => openai.connections[calls.indexOf(call)];
      const [killed, garbage, oversized, ...healthy] = calls;

      const frames = frames20ms(mulawTone(440, 1000));
      for (let f = 0; f < frames.length; f++) {
        for (const call of calls) call.sendMedia(frames[f]);
        for (const connection of openai.connections)
          connection.audioDelta('resp_1', 'item_1', frames[f]);
        if (f === 10) upstreamOf(killed).socket.terminate();
        if (f === 20) garbage.socket.send('{"event":"media","media":');
        if (f === 30) oversized.socket.send('y'.repeat(70_000));
        await sleep(5);
      }

      const everything = Buffer.concat(frames);
      for (const call of healthy) {
        const upstream = upstreamOf(call);
        await waitUntil(
          () => upstream.appendedAudio().length === everything.length,
          'all caller audio',
        );
        expect(upstream.appendedAudio().equals(everything)).toBe(true);
        await waitUntil(
          () => call.receivedAudio().length === everything.length,
          'all assistant audio',
        );
        expect(call.receivedAudio().equals(everything)).toBe(true);
        expect(call.closeCode).toBeUndefined();
      }
      expect(await oversized.waitForClose()).toBe(1009);
      expect(garbage.closeCode).toBeUndefined();
      expect(killed.closeCode).toBeUndefined();
    });
  });
});

describe('graceful shutdown', () => {
  it('stops admitting at once, lets active calls go on, and closes when they end', async () => {
    const openai = new FakeRealtimeServer();
    await openai.start();
    const bridge = await startBridge({
      OPENAI_REALTIME_URL: openai.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      SHUTDOWN_DRAIN_S: '10',
    });
    const call = await FakeTwilioCall.dial(bridge.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');

    const closing = bridge.close();
    await waitUntil(
      () => bridge.logs.matching(/draining 1 active calls/).length === 1,
      'drain start',
    );
    expect((await fetch(`${bridge.baseUrl}/health/ready`)).status).toBe(503);
    expect((await fetch(`${bridge.baseUrl}/health`)).status).toBe(200);
    expect(
      (await postTwiml(bridge.baseUrl, { CallSid: 'CA53346b9f8ce3dd9bfd10666d4261b8a5' })).status,
    ).toBe(503);
    const signature = (await import('twilio')).default.getExpectedTwilioSignature(
      TEST_AUTH_TOKEN,
      `${bridge.baseUrl.replace('http', 'ws')}/media-stream`,
      {},
    );
    const late = new WebSocket(`${bridge.baseUrl.replace('http', 'ws')}/media-stream`, {
      headers: { 'x-twilio-signature': signature },
    });
    await expect(
      new Promise((resolve, reject) => {
        late.once('open', resolve);
        late.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      }),
    ).rejects.toThrow('HTTP 503');

    // The active call still carries audio both ways.
    const audio = mulawTone(440, 100);
    for (const frame of frames20ms(audio)) call.sendMedia(frame);
    upstream.audioDelta('resp_1', 'item_1', audio);
    await waitUntil(
      () => upstream.appendedAudio().length === audio.length,
      'caller audio during drain',
    );
    await waitUntil(
      () => call.receivedAudio().length === audio.length,
      'assistant audio during drain',
    );

    call.stop();
    await closing;
    await upstream.waitForClose();
    await openai.stop();
  });
});
