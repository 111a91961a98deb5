import { jest } from '@jest/globals';
import type { CallEndedEvent } from '../src/events/call-events.js';
import {
  assistantItemDone,
  assistantItemStarted,
  audioDelta,
  contentAt,
  responseCreated,
  responseDone,
  transcriptDelta,
} from '../src/testing/realtime-protocol.js';
import { mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { CallEventLogModule, seenCallEvents } from './support/call-event-log.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall } from './support/fake-twilio.js';
import { mediaAfter, modelSpeaks, pumpCaller } from './support/listen-call.js';
import { openListen, type ListenClient } from './support/listen-client.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { sleep, waitUntil } from './support/wait.js';

// Taking the line, where it meets the rest of the call: a wrap-up under way, answers the model
// makes anyway, a holder gone without a close, audio saved up while listening, and what the
// model, tools and other surfaces may do to the call while an operator holds it.

jest.setTimeout(30_000);

const API_TOKEN = 'listen-test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${API_TOKEN}` };
const USAGE = { total_tokens: 30, input_tokens: 20, output_tokens: 10 };
const TRANSFER_NUMBER = '+15559990001';

describe('takeover', () => {
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;
  let call: FakeTwilioCall;
  let session: FakeRealtimeConnection;
  let stopCaller: () => void = () => undefined;
  const listeners: ListenClient[] = [];

  async function listen(): Promise<ListenClient> {
    const url = `${bridge.baseUrl.replace('http', 'ws')}/api/calls/${call.callSid}/listen`;
    const { client, status } = await openListen(url, AUTH);
    if (!client) throw new Error(`listen refused: ${status}`);
    listeners.push(client);
    await client.waitFor('start');
    return client;
  }

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
    await call.waitForClose().catch(() => undefined);
  });

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
