import { jest } from '@jest/globals';
import { ConsoleSessions, type SessionState } from '../src/console/console-sessions.service.js';
import type { CallEndedEvent, CallHandbackEvent } from '../src/events/call-events.js';
import { LISTEN_CLOSE_SETTLE_MS } from '../src/listen/listen.constants.js';
import {
  assistantItemDone,
  assistantItemStarted,
  audioDelta,
  contentAt,
  responseCreated,
  responseDone,
  transcriptDelta,
} from '../src/testing/realtime-protocol.js';
import { frames20ms, mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { CallEventLogModule, seenCallEvents } from './support/call-event-log.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { mediaAfter, modelSpeaks, pumpCaller } from './support/listen-call.js';
import { openListen, type ListenClient } from './support/listen-client.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { sleep, waitUntil } from './support/wait.js';

// Listen-in and takeover (issue 28) against the real application, the fake Twilio caller and
// the fake Realtime server: every point of the contract of /api/calls/:callSid/listen.

jest.setTimeout(30_000);

const API_TOKEN = 'listen-test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${API_TOKEN}` };
const USAGE = { total_tokens: 30, input_tokens: 20, output_tokens: 10 };
const TRANSFER_NUMBER = '+15559990001';
describe('listen-in and takeover', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;
  let call: FakeTwilioCall;
  let session: FakeRealtimeConnection;
  let stopCaller: () => void = () => undefined;
  let cookie: string;
  const listeners: ListenClient[] = [];

  const listenUrl = (callSid = call.callSid) =>
    `${bridge.baseUrl.replace('http', 'ws')}/api/calls/${callSid}/listen`;

  async function listen(): Promise<ListenClient> {
    const { client, status } = await openListen(listenUrl(), AUTH);
    if (!client) throw new Error(`listen refused: ${status}`);
    listeners.push(client);
    await client.waitFor('start');
    return client;
  }

  /** A listen socket of the console's, opened with a session cookie (its frames are checked). */
  async function listenFromConsole(): Promise<ListenClient> {
    const url = listenUrl().replace('/api/', '/console/api/');
    const { client, status } = await openListen(url, { cookie, origin: bridge.baseUrl });
    if (!client) throw new Error(`console listen refused: ${status}`);
    listeners.push(client);
    await client.waitFor('start');
    return client;
  }

  /**
   * From now on each session check waits for `answer` (a store across the network, or hung);
   * what it then answers is the real check's.
   */
  function slowSessionChecks(answer: () => Promise<unknown>): () => void {
    const sessions = bridge.app.get(ConsoleSessions);
    const check = sessions.state.bind(sessions);
    const spy = jest
      .spyOn(sessions, 'state')
      .mockImplementation(async (key: string): Promise<SessionState> => {
        await answer();
        return check(key);
      });
    return () => spy.mockRestore();
  }

  /** The system messages the model got: a handback's says what happened, with its note. */
  const systemItems = () =>
    session
      .eventsOfType('conversation.item.create')
      .filter((event) => (event.item as { role?: string }).role === 'system')
      .map((event) => JSON.stringify(event.item));

  beforeAll(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    bridge = await startBridge(
      {
        API_TOKEN,
        OPENAI_REALTIME_URL: openai.url,
        TURN_DETECTION: 'server_vad',
        TRANSFER_NUMBER,
      },
      [CallEventLogModule],
    );
    const login = await fetch(`${bridge.baseUrl}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: API_TOKEN }),
    });
    cookie = login.headers.get('set-cookie')!.split(';')[0];
  });

  afterAll(async () => {
    await bridge?.close();
    await openai?.stop();
  });

  beforeEach(async () => {
    seenCallEvents.length = 0;
    const index = openai.connections.length;
    call = await FakeTwilioCall.dial(bridge.baseUrl, { playInRealTime: true });
    session = await openai.connection(index);
    await session.waitFor('session.update');
  });

  afterEach(async () => {
    stopCaller();
    for (const listener of listeners.splice(0)) listener.close();
    call.hangUp();
    await call.waitForClose();
  });

  it('starts with the call and the format, then forwards each caller frame as it arrives', async () => {
    const listener = await listen();
    expect(listener.received[0]).toEqual({
      event: 'start',
      callSid: call.callSid,
      encoding: 'audio/x-mulaw',
      sampleRate: 8000,
      tracks: ['caller', 'assistant'],
      line: 'assistant',
    });
    const frames = frames20ms(mulawTone(300, 400));
    const sentAt: number[] = [];
    for (const frame of frames) {
      sentAt.push(performance.now());
      call.sendMedia(frame);
      await sleep(20);
    }
    await waitUntil(() => listener.framesOf('media', 'caller').length === frames.length, 'frames');
    const got = listener.framesOf('media', 'caller');
    expect(listener.audio('caller').equals(Buffer.concat(frames))).toBe(true);
    expect(got.map((frame) => frame.timestamp as number)).toEqual(frames.map((_, i) => i * 20));
    // As it arrives, not held: one message per frame (above), and the first reached the listener
    // while the caller was still sending (an ordering, not a timing bound a loaded machine breaks).
    const firstAt = listener.receivedAt[listener.received.indexOf(got[0])];
    expect(firstAt).toBeLessThan(sentAt[sentAt.length - 1]);
  });

  it('sends the assistant as the caller hears it: paced to playback, nothing after a barge-in', async () => {
    const listener = await listen();
    stopCaller = pumpCaller(call);
    const spoken = modelSpeaks(session, 'resp_a', 'item_a', 3000);
    await sleep(600);
    const heardSoFar = listener.audio('assistant').length;
    // The model sent 3 s at once; the caller has heard about 0.6 s of it, and so has the listener.
    expect(heardSoFar).toBeGreaterThan(0);
    expect(heardSoFar).toBeLessThan(1200 * 8);
    session.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'c1' });
    await call.waitFor('clear');
    await sleep(400);
    const heard = listener.audio('assistant');
    expect(heard.length).toBeLessThan(1500 * 8);
    // What was heard is the start of what the model said, byte for byte.
    expect(heard.equals(spoken.subarray(0, heard.length))).toBe(true);
    await sleep(400);
    expect(listener.audio('assistant').length).toBe(heard.length);
  });

  it('takes over: clear within 300 ms, truncate at what was heard, cancel, create_response off; every listener sees it', async () => {
    const [a, b] = [await listen(), await listen()];
    stopCaller = pumpCaller(call);
    modelSpeaks(session, 'resp_t', 'item_t', 3000);
    await call.waitFor('media');
    await sleep(500);
    const asked = performance.now();
    a.send({ event: 'takeover' });
    await call.waitFor('clear');
    expect(performance.now() - asked).toBeLessThan(300);
    const truncate = await session.waitFor('conversation.item.truncate');
    expect(truncate).toMatchObject({ item_id: 'item_t', content_index: 0 });
    expect(truncate.audio_end_ms).toBeGreaterThan(300);
    expect(truncate.audio_end_ms).toBeLessThan(1500);
    await session.waitFor('response.cancel', (event) => event.response_id === 'resp_t');
    const update = await session.waitFor('session.update', (event) =>
      JSON.stringify(event).includes('"create_response":false'),
    );
    expect(update.session).toMatchObject({
      audio: { input: { turn_detection: { create_response: false, interrupt_response: false } } },
    });
    for (const listener of [a, b]) {
      await listener.waitFor('takeover');
      expect(listener.framesOf('takeover')).toEqual([{ event: 'takeover', ok: true }]);
    }
    expect(seenCallEvents).toContainEqual(
      expect.objectContaining({ event: 'call.takeover', callSid: call.callSid, operator: 'api' }),
    );
  });

  it('lets no model audio reach the caller during a takeover; the operator is heard byte for byte, the model still hears the caller', async () => {
    const [holder, other] = [await listen(), await listen()];
    stopCaller = pumpCaller(call, () => mulawTone(600, 20));
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    const before = call.received.length;
    const appendsBefore = session.eventsOfType('input_audio_buffer.append').length;
    // The server answers a caller turn anyway: the bridge cancels it and plays none of it.
    modelSpeaks(session, 'resp_vad', 'item_vad', 600);
    await session.waitFor('response.cancel', (event) => event.response_id === 'resp_vad');
    // Another socket's audio, and the holder's, in 20 ms frames.
    other.send({ event: 'media', payload: mulawTone(1000, 20).toString('base64') });
    const voice = frames20ms(mulawTone(850, 500));
    const sentAt: number[] = [];
    for (const frame of voice) {
      sentAt.push(performance.now());
      holder.send({ event: 'media', payload: frame.toString('base64') });
      await sleep(20);
    }
    await waitUntil(() => mediaAfter(call, before).length >= voice.length, 'operator frames');
    await sleep(200);
    const out = mediaAfter(call, before);
    const bytes = Buffer.concat(out.map((f) => Buffer.from(f.media.payload as string, 'base64')));
    expect(bytes.equals(Buffer.concat(voice))).toBe(true);
    // The model kept hearing the caller, and never the operator.
    expect(session.eventsOfType('input_audio_buffer.append').length).toBeGreaterThan(appendsBefore);
    const toModel = session.appendedAudio();
    expect(toModel.includes(voice[3])).toBe(false);
    // The operator's voice is what the caller heard from us: the listeners' assistant track.
    await waitUntil(() => other.audio('assistant').length >= 300 * 8, 'the operator heard');
    expect(Buffer.concat(voice).includes(other.audio('assistant').subarray(0, 160))).toBe(true);
  });

  it('forwards each operator frame to the caller within 100 ms', async () => {
    const holder = await listen();
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    const before = call.received.length;
    const delays: number[] = [];
    for (const frame of frames20ms(mulawTone(700, 200))) {
      const sent = performance.now();
      const count = mediaAfter(call, before).length;
      holder.send({ event: 'media', payload: frame.toString('base64') });
      await waitUntil(() => mediaAfter(call, before).length > count, 'the frame', 1000);
      delays.push(performance.now() - sent);
      await sleep(20);
    }
    expect(Math.max(...delays)).toBeLessThan(100);
  });

  it('ignores operator audio when nobody has taken the line', async () => {
    const listener = await listen();
    const before = call.received.length;
    listener.send({ event: 'media', payload: mulawTone(700, 20).toString('base64') });
    await sleep(300);
    expect(mediaAfter(call, before)).toEqual([]);
  });

  it('hands back: create_response on again, a system message with the times and the note, and the model is heard again', async () => {
    const [holder, other] = [await listen(), await listen()];
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    holder.send({ event: 'handback', note: 'Refund approved; caller wants an email receipt.' });
    for (const listener of [holder, other]) {
      await listener.waitFor('handback');
      expect(listener.framesOf('handback')).toEqual([{ event: 'handback', ok: true }]);
    }
    await session.waitFor('session.update', (event) =>
      JSON.stringify(event).includes('"create_response":true'),
    );
    const message = await session.waitFor(
      'conversation.item.create',
      (event) => (event.item as { role?: string }).role === 'system',
    );
    const text = JSON.stringify(message.item);
    expect(text).toMatch(/human operator/);
    expect(text).toMatch(/between \d\d:\d\d:\d\d and \d\d:\d\d:\d\d UTC/);
    expect(text).toContain('Refund approved; caller wants an email receipt.');
    const before = call.received.length;
    modelSpeaks(session, 'resp_back', 'item_back', 200);
    await waitUntil(() => mediaAfter(call, before).length > 0, 'the model heard again');
    const handback = seenCallEvents.find((e) => e.event === 'call.handback') as CallHandbackEvent;
    expect(handback).toMatchObject({ operator: 'api', note: expect.stringContaining('Refund') });
  });

  it('hands back by itself when the holder’s socket closes', async () => {
    const [holder, other] = [await listen(), await listen()];
    holder.send({ event: 'takeover' });
    await other.waitFor('takeover');
    holder.close();
    await other.waitFor('handback');
    await session.waitFor(
      'conversation.item.create',
      (event) => (event.item as { role?: string }).role === 'system',
    );
    // The line is free again: the other operator may take it.
    other.send({ event: 'takeover' });
    await waitUntil(() => other.framesOf('takeover').length === 2, 'the second takeover');
  });

  it('keeps the note of a handback sent just before the socket closes (API token)', async () => {
    const [holder, other] = [await listen(), await listen()];
    holder.send({ event: 'takeover' });
    await other.waitFor('takeover');
    holder.send({ event: 'handback', note: 'Refund agreed; closing the tab.' });
    holder.close();
    await other.waitFor('handback');
    await waitUntil(() => systemItems().length > 0, 'the handback message');
    await sleep(300);
    expect(systemItems()).toHaveLength(1);
    expect(systemItems()[0]).toContain('Refund agreed; closing the tab.');
    expect(other.framesOf('handback')).toEqual([{ event: 'handback', ok: true }]);
  });

  it('keeps the note of a console handback still waiting on its session check when the socket closes', async () => {
    const [holder, other] = [await listenFromConsole(), await listen()];
    holder.send({ event: 'takeover' });
    await other.waitFor('takeover');
    // A session store across the network: the check answers after the close has arrived.
    const restore = slowSessionChecks(() => sleep(300));
    try {
      holder.send({ event: 'handback', note: 'Customer agreed to a refund.' });
      holder.close();
      await other.waitFor('handback');
      await waitUntil(() => systemItems().length > 0, 'the handback message');
      await sleep(500);
      // Once, with the note: not a bare handback by the close and the note refused after it.
      expect(systemItems()).toHaveLength(1);
      expect(systemItems()[0]).toContain('Customer agreed to a refund.');
      expect(other.framesOf('handback')).toEqual([{ event: 'handback', ok: true }]);
      const handbacks = seenCallEvents.filter((e) => e.event === 'call.handback');
      expect(handbacks).toEqual([
        expect.objectContaining({ note: 'Customer agreed to a refund.' }),
      ]);
    } finally {
      restore();
    }
  });

  it('never lets a console takeover still waiting on its check take the line once its socket closed', async () => {
    const [closing, other] = [await listenFromConsole(), await listen()];
    const restore = slowSessionChecks(() => sleep(300));
    try {
      closing.send({ event: 'takeover' });
      closing.close();
      await sleep(800);
      expect(other.framesOf('takeover')).toEqual([]);
      other.send({ event: 'takeover' });
      await other.waitFor('takeover');
      expect(other.framesOf('takeover')).toEqual([{ event: 'takeover', ok: true }]);
    } finally {
      restore();
    }
  });

  it('hands the line back within LISTEN_CLOSE_SETTLE_MS of the close while a handback’s check hangs, and only once', async () => {
    const [holder, other] = [await listenFromConsole(), await listen()];
    holder.send({ event: 'takeover' });
    await other.waitFor('takeover');
    let answer: () => void = () => undefined;
    const hung = new Promise<void>((resolve) => (answer = resolve));
    const restore = slowSessionChecks(() => hung);
    try {
      holder.send({ event: 'handback', note: 'Too late to be told.' });
      holder.send({ event: 'takeover' });
      const closedAt = performance.now();
      holder.close();
      await other.waitFor('handback', () => true, LISTEN_CLOSE_SETTLE_MS + 2000);
      expect(performance.now() - closedAt).toBeLessThan(LISTEN_CLOSE_SETTLE_MS + 1000);
      // The checks answer at last: neither the handback nor the takeover behind it acts now.
      answer();
      await sleep(300);
      expect(other.framesOf('handback')).toEqual([{ event: 'handback', ok: true }]);
      expect(other.framesOf('takeover')).toEqual([{ event: 'takeover', ok: true }]);
      expect(systemItems()).toHaveLength(1);
      expect(systemItems()[0]).not.toContain('Too late to be told.');
    } finally {
      restore();
    }
  });

  it('refuses a second operator while the line is held', async () => {
    const [holder, other] = [await listen(), await listen()];
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    other.send({ event: 'takeover' });
    await waitUntil(() => other.framesOf('takeover').length === 2, 'the answer');
    expect(other.framesOf('takeover')[1]).toMatchObject({ event: 'takeover', ok: false });
    other.send({ event: 'handback' });
    await other.waitFor('handback', (frame) => frame.ok === false);
    // A listener that joins now is told at once that an operator has the line.
    const late = await listen();
    expect(late.framesOf('start')[0]).toMatchObject({ event: 'start', line: 'operator' });
  });

  it('configures a reconnected session with create_response off while the line is held', async () => {
    const holder = await listen();
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    session.socket.terminate();
    const next = await openai.connection(openai.connections.indexOf(session) + 1);
    const first = await next.waitFor('session.update');
    expect(first.session).toMatchObject({
      audio: { input: { turn_detection: { create_response: false, interrupt_response: false } } },
    });
  });

  it('tells the new session of a handback made while OpenAI reconnects (the re-seed carries it)', async () => {
    const holder = await listen();
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    openai.acceptDelayMs = 400;
    try {
      session.socket.terminate();
      await sleep(100);
      holder.send({ event: 'handback', note: 'Address confirmed.' });
      await holder.waitFor('handback');
      const next = await openai.connection(openai.connections.indexOf(session) + 1);
      const update = await next.waitFor('session.update');
      expect(JSON.stringify(update)).toContain('"create_response":true');
      const message = await next.waitFor(
        'conversation.item.create',
        (event) => (event.item as { role?: string }).role === 'system',
      );
      expect(JSON.stringify(message.item)).toContain('Address confirmed.');
    } finally {
      openai.acceptDelayMs = 0;
    }
  });

  it('says stop and closes normally when the call ends, and the record lists the takeover', async () => {
    const listener = await listen();
    listener.send({ event: 'takeover' });
    await listener.waitFor('takeover');
    listener.send({ event: 'handback', note: 'done' });
    await listener.waitFor('handback');
    call.stop();
    await listener.waitFor('stop');
    expect(await listener.waitForClose()).toBe(1000);
    expect(listener.received.at(-1)).toEqual({ event: 'stop' });
    await waitUntil(() => seenCallEvents.some((e) => e.event === 'call.ended'), 'call.ended');
    const ended = seenCallEvents.find((e) => e.event === 'call.ended') as CallEndedEvent;
    expect(ended.takeovers).toEqual([
      {
        operator: 'api',
        takenAt: expect.any(String),
        handedBackAt: expect.any(String),
        note: 'done',
      },
    ]);
  });

  it('holds at most MAX_LISTENERS_PER_CALL (5) listeners; the sixth is refused with 429', async () => {
    for (let i = 0; i < 5; i++) await listen();
    const sixth = await openListen(listenUrl(), AUTH);
    expect(sixth.status).toBe(429);
    listeners.pop()!.close();
    await sleep(100);
    const again = await openListen(listenUrl(), AUTH);
    expect(again.client).toBeDefined();
    listeners.push(again.client!);
  });

  // Taking the line where it meets the rest of the call: a wrap-up under way, answers the model
  // makes anyway, a holder gone without a close, audio saved up while listening, and what the
  // model, tools and other surfaces may do to the call while an operator holds it.

  it('an operator who takes the line during the assistant’s goodbye keeps the call (it is not hung up under them)', async () => {
    const holder = await listen();
    stopCaller = pumpCaller(call);
    // The model decides the call is over: end_call, then the bridge asks for the goodbye.
    await session.callTool('end_call', { reason: 'caller said bye' });
    await session.waitFor('response.create');
    await waitUntil(() => session.responseIds.length > 0, 'the goodbye response');
    const goodbye = session.responseIds.at(-1)!;
    modelSpeaks(session, goodbye, 'item_bye', 3000);
    await call.waitFor('media');
    await sleep(300);
    // The supervisor hears the caller protest and takes the line to keep them on it.
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    await session.waitFor('response.cancel', (event) => event.response_id === goodbye);
    // As the real server does after response.cancel.
    session.send(responseDone(goodbye, 'cancelled', [], USAGE, 'client_cancelled'));
    await sleep(1500);
    // The operator holds the line: the call must still be up (no call.ended, no stop).
    const ended = seenCallEvents.filter((e): e is CallEndedEvent => e.event === 'call.ended');
    expect(ended.map((e) => e.reason)).toEqual([]);
    expect(holder.closeCode).toBeUndefined();
  });

  it('a response the model generates during a takeover (cancelled, never played) is not in the transcript as heard', async () => {
    const holder = await listen();
    stopCaller = pumpCaller(call);
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    const before = call.received.length;
    // The server starts an answer anyway; the bridge cancels it. What the server generated
    // before the cancel landed comes in, then response.done (cancelled).
    const id = 'resp_during';
    const at = contentAt(id, 'item_during');
    session.send(responseCreated(id));
    for (const event of assistantItemStarted(at, null)) session.send(event);
    session.send(audioDelta(at, mulawTone(440, 400)));
    session.send(transcriptDelta(at, 'Your refund of 900 dollars is approved'));
    await session.waitFor('response.cancel', (event) => event.response_id === id);
    const done = assistantItemDone(at, 'Your refund of 900 dollars is approved', 'incomplete');
    for (const event of done.events) session.send(event);
    session.send(responseDone(id, 'cancelled', [done.item], USAGE, 'client_cancelled'));
    await sleep(300);
    // The caller heard none of it.
    expect(mediaAfter(call, before)).toEqual([]);
    call.stop();
    await waitUntil(() => seenCallEvents.some((e) => e.event === 'call.ended'), 'call.ended');
    const ended = seenCallEvents.find((e) => e.event === 'call.ended') as CallEndedEvent;
    const said = ended.transcript.filter((turn) => turn.role === 'assistant').map((t) => t.text);
    expect(said.join(' ')).not.toContain('refund');
  });

  it('hands the line back when the holder’s connection dies without a close (a forgotten flow)', async () => {
    const proxy = await TcpProxy.start(Number(new URL(bridge.baseUrl).port));
    try {
      const url = `ws://127.0.0.1:${proxy.port}/api/calls/${call.callSid}/listen`;
      const { client: holder } = await openListen(url, AUTH);
      listeners.push(holder!);
      await holder!.waitFor('start');
      const other = await listen();
      stopCaller = pumpCaller(call);
      holder!.send({ event: 'takeover' });
      await other.waitFor('takeover');
      // The operator's laptop drops off the network: no FIN, no RST, nothing either way.
      expect(proxy.blackhole(/listen/)).toBe(1);
      // The caller meanwhile hears dead air and the assistant is muted. A minute would be long;
      // 20 s is generous for a keepalive to notice.
      await waitUntil(() => other.framesOf('handback').length > 0, 'the line handed back', 20_000);
    } finally {
      await proxy.close();
    }
  }, 40_000);

  it('holds operator audio to real time plus a 1 s burst, however long the operator listened first', async () => {
    const holder = await listen();
    // The supervisor listens for a while before taking the line.
    await sleep(5200);
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    const before = call.received.length;
    // Then pushes 6 s of audio at once (48 frames of 125 ms, under the 100 frames/s bound).
    const burst = mulawTone(500, 6000);
    for (let offset = 0; offset < burst.length; offset += 1000) {
      holder.send({
        event: 'media',
        payload: burst.subarray(offset, offset + 1000).toString('base64'),
      });
    }
    await sleep(300);
    const forwarded = mediaAfter(call, before).reduce(
      (sum, frame) => sum + Buffer.from(frame.media.payload as string, 'base64').length,
      0,
    );
    // docs/call-control-api.md: "operator audio at real time plus a 1 s burst".
    expect(forwarded).toBeLessThanOrEqual(8000 * 1.5);
  });

  it('refuses the model’s end_call and a console transfer while an operator holds the line', async () => {
    const holder = await listen();
    stopCaller = pumpCaller(call);
    holder.send({ event: 'takeover' });
    await holder.waitFor('takeover');
    // A response that was already under way calls end_call: refused, the call stays up.
    const tool = await session.callTool('end_call', { reason: 'caller said bye' });
    expect(JSON.parse(tool.output)).toEqual({
      error: 'an operator holds the line: not until handback',
    });
    // The console's transfer has the assistant announce it first: not while the operator speaks.
    const transfer = await fetch(`${bridge.baseUrl}/console/api/calls/${call.callSid}/transfer`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ to: TRANSFER_NUMBER }),
    });
    expect(transfer.status).toBe(409);
    expect(await transfer.json()).toMatchObject({
      error: 'refused',
      message: 'an operator holds the line: not until handback',
    });
    await sleep(500);
    expect(seenCallEvents.filter((e) => e.event === 'call.ended')).toEqual([]);
    // Handed back, the model may end the call again.
    holder.send({ event: 'handback' });
    await holder.waitFor('handback');
    const again = await session.callTool('end_call', { reason: 'caller said bye' });
    expect(JSON.parse(again.output)).toMatchObject({ ok: true });
  });
});
