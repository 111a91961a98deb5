import { Injectable, Module, Scope } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { CallContext } from '../src/call/call-context.js';
import { CallRegistry } from '../src/call/call-registry.service.js';
import { CallControlService } from '../src/call-control/call-control.service.js';
import { SIDEBAND_BACKOFF_MS } from '../src/sip-call/sip.constants.js';
import { StoreHoursModule } from '../examples/store-hours.module.js';
import { RealtimeTool } from '../src/tools/realtime-tool.decorator.js';
import { startBridge, TEST_API_KEY, type RunningBridge } from './support/bridge.js';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { CallEventLogModule, seenCallEvents as seenEvents } from './support/call-event-log.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import {
  incomingCall as incomingSipCall,
  sidebandOf as sidebandFor,
} from './support/sip-webhooks.js';
import { sleep, waitUntil } from './support/wait.js';
import { TEST_API_TOKEN } from './support/secrets.js';

const SECRET = `whsec_${Buffer.from('the e2e key of the SIP webhook tests').toString('base64')}`;
const API_TOKEN = TEST_API_TOKEN;
const SALES_NUMBER = '+15551230002';
const PROFILES = JSON.stringify({
  sales: {
    instructions: 'You are the sales line of Acme.',
    voice: 'marin',
    numbers: [SALES_NUMBER],
  },
});

let webhookSeq = 0;

/**
 * Answers the running `order_status` (a slow backend), once it runs; with `instructions`, the
 * tool changes the call's session as it settles (CallContext.updateSession).
 */
let answerOrderStatus: ((status: string, instructions?: string) => void) | undefined;

@Injectable({ scope: Scope.REQUEST })
class OrderStatus {
  constructor(private readonly call: CallContext) {}

  @RealtimeTool({ name: 'order_status', description: 'Status of an order, from a slow backend' })
  status(): Promise<{ status: string }> {
    return new Promise(
      (resolve) =>
        (answerOrderStatus = (status, instructions) => {
          if (instructions) this.call.updateSession({ instructions });
          resolve({ status });
        }),
    );
  }
}

@Module({ providers: [OrderStatus] })
class OrderStatusModule {}

/** A `realtime.call.incoming` as OpenAI sends it (by default from a caller to the sales line). */
function incomingCall(
  callId: string,
  { from = '+15550001111', to = SALES_NUMBER } = {},
): Record<string, unknown> {
  return incomingSipCall(callId, { from, to });
}

describe('SIP transport (OpenAI SIP calls with a sideband)', () => {
  let calls: FakeOpenAICalls;
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  async function startWith(env: Record<string, string> = {}) {
    bridge = await startBridge(
      {
        OPENAI_WEBHOOK_SECRET: SECRET,
        OPENAI_API_BASE_URL: calls.url,
        OPENAI_REALTIME_URL: openai.url,
        API_TOKEN,
        CALL_PROFILES: PROFILES,
        TRANSFER_NUMBER: '+15559990000',
        ...env,
      },
      [StoreHoursModule, CallEventLogModule, OrderStatusModule],
    );
  }

  /** Posts a webhook signed by the independent standardwebhooks implementation. */
  async function postWebhook(
    event: unknown,
    options: { id?: string; at?: Date; omit?: string; signature?: string; raw?: string } = {},
  ): Promise<Response> {
    const payload = options.raw ?? JSON.stringify(event);
    const id = options.id ?? `msg_${++webhookSeq}`;
    const at = options.at ?? new Date();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': options.signature ?? new Webhook(SECRET).sign(id, at, payload),
    };
    if (options.omit) delete headers[options.omit];
    return fetch(`${bridge.baseUrl}/api/openai/webhook`, {
      method: 'POST',
      headers,
      body: payload,
    });
  }

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${bridge.baseUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${API_TOKEN}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });

  const sidebandOf = (callId: string, nth = 0) => sidebandFor(openai, callId, nth);

  /** The sideband's connection lost (no close frame), once the bridge has seen it go. */
  async function dropSideband(sideband: { socket: { terminate(): void } }): Promise<void> {
    sideband.socket.terminate();
    await waitUntil(
      () => bridge.logs.matching(/sideband lost/).length === 1,
      'the bridge to see the sideband drop',
    );
  }

  /** A call that has been accepted and whose sideband is open. */
  async function sipCallIn(callId: string, options?: { from?: string; to?: string }) {
    const response = await postWebhook(incomingCall(callId, options));
    expect(response.status).toBe(200);
    const accept = await calls.waitFor('accept', callId);
    const sideband = await sidebandOf(callId);
    return { accept, sideband };
  }

  /** The model calls a tool in one response, as the server reports it. */
  function modelCalls(
    sideband: FakeRealtimeConnection,
    responseId: string,
    name: string,
    args: object,
  ) {
    const item = {
      id: `item_${responseId}`,
      type: 'function_call',
      call_id: `call_${responseId}`,
      name,
      arguments: JSON.stringify(args),
    };
    sideband.send({ type: 'response.created', response: { id: responseId, output: [] } });
    sideband.send({
      type: 'response.output_item.done',
      response_id: responseId,
      output_index: 0,
      item,
    });
    sideband.send({
      type: 'response.done',
      response: { id: responseId, status: 'completed', output: [item] },
    });
  }

  /** The last sentence the bridge asked for, spoken: its response.done with a transcript. */
  async function lastSentenceDone(sideband: FakeRealtimeConnection, transcript: string) {
    await sideband.waitFor('response.create');
    const id = sideband.responseIds[0];
    sideband.send({
      type: 'response.done',
      response: {
        id,
        status: 'completed',
        output: [{ type: 'message', content: [{ type: 'output_audio', transcript }] }],
      },
    });
    return id;
  }

  beforeEach(async () => {
    seenEvents.length = 0;
    calls = new FakeOpenAICalls();
    openai = new FakeRealtimeServer();
    await Promise.all([calls.start(), openai.start()]);
  });

  afterEach(async () => {
    await bridge?.close();
    await Promise.all([calls.stop(), openai.stop()]);
  });

  it('accepts a signed call with the resolved instructions and tools, then opens the sideband by call_id', async () => {
    await startWith();
    const { accept, sideband } = await sipCallIn('rtc_accept1');

    expect(accept.method).toBe('POST');
    expect(accept.path).toBe('/v1/realtime/calls/rtc_accept1/accept');
    expect(accept.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    const session = accept.body as Record<string, any>;
    expect(session).toMatchObject({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'You are the sales line of Acme.',
      audio: { output: { voice: 'marin' } },
      tool_choice: 'auto',
    });
    expect(session.tools.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(['get_store_hours', 'end_call', 'transfer_call']),
    );
    // Audio formats belong to the media path: the SIP leg negotiates its own codec.
    expect(session.audio.input.format).toBeUndefined();
    expect(session.audio.output.format).toBeUndefined();
    expect(session.audio.input.turn_detection).not.toHaveProperty('threshold');

    expect(sideband.url.searchParams.get('call_id')).toBe('rtc_accept1');
    expect(sideband.url.searchParams.has('model')).toBe(false);
    expect(sideband.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    expect(calls.requests).toHaveLength(1);
    expect(bridge.logs.lines.join('\n')).not.toContain(TEST_API_KEY);
    expect(bridge.logs.lines.join('\n')).not.toContain(SECRET.slice(6));
  });

  it('lists the SIP call in GET /api/calls with transport "sip" and its numbers', async () => {
    await startWith();
    await sipCallIn('rtc_list1');
    const body = (await (await api('/api/calls')).json()) as {
      calls: Array<Record<string, unknown>>;
    };
    expect(body.calls).toEqual([
      expect.objectContaining({
        callSid: 'rtc_list1',
        transport: 'sip',
        from: '+15550001111',
        to: SALES_NUMBER,
        profile: 'sales',
      }),
    ]);
    expect(seenEvents.find((e) => e.event === 'call.started')).toMatchObject({
      callSid: 'rtc_list1',
      transport: 'sip',
    });
  });

  it('refuses a bad signature, a timestamp over 300 s off either way and each missing header, with no calls-API request', async () => {
    await startWith();
    const event = incomingCall('rtc_refused');
    const wrongKey = new Webhook(`whsec_${Buffer.from('not the key').toString('base64')}`);
    const at = new Date();
    const responses = [
      await postWebhook(event, {
        signature: wrongKey.sign('msg_bad', at, JSON.stringify(event)),
        id: 'msg_bad',
        at,
      }),
      // 302 s, not 301: timestamps are whole seconds, so 301 s ahead can read as 300 when the
      // check falls in the next second (it did once in CI).
      await postWebhook(event, { at: new Date(Date.now() - 302_000) }),
      await postWebhook(event, { at: new Date(Date.now() + 302_000) }),
      await postWebhook(event, { omit: 'webhook-signature' }),
      await postWebhook(event, { omit: 'webhook-timestamp' }),
      await postWebhook(event, { omit: 'webhook-id' }),
    ];
    for (const response of responses) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    // A good delivery after them: once it is accepted, none of the refused ones led anywhere.
    await sipCallIn('rtc_after');
    expect(calls.requests.map((r) => r.callId)).toEqual(['rtc_after']);
    expect(openai.connections.map((c) => c.url.searchParams.get('call_id'))).toEqual(['rtc_after']);
  });

  it('refuses a body whose SIP headers break the bounds (400), a body over 64 KiB (413), and ignores other events (200)', async () => {
    await startWith();
    const flood = incomingCall('rtc_flood');
    (flood.data as { sip_headers: unknown[] }).sip_headers = Array.from({ length: 65 }, (_, i) => ({
      name: `X-H${i}`,
      value: 'v',
    }));
    expect((await postWebhook(flood)).status).toBe(400);
    const evil = incomingCall('rtc_evil');
    (evil.data as { sip_headers: unknown[] }).sip_headers = [
      { name: 'From', value: 'sip:a@b\r\nX-Injected: 1' },
    ];
    const evilResponse = await postWebhook(evil);
    expect(evilResponse.status).toBe(400);
    expect(JSON.stringify(await evilResponse.json())).toContain('control characters');
    const big = { ...incomingCall('rtc_big'), padding: 'x'.repeat(70 * 1024) };
    expect((await postWebhook(big)).status).toBe(413);
    const other = await postWebhook({
      object: 'event',
      id: 'evt_b',
      type: 'batch.completed',
      data: { id: 'b1' },
    });
    expect(other.status).toBe(200);

    await sipCallIn('rtc_good');
    expect(calls.requests.map((r) => r.callId)).toEqual(['rtc_good']);
  });

  it('accepts a webhook delivered twice (same webhook-id) once', async () => {
    await startWith();
    const event = incomingCall('rtc_twice');
    const first = await postWebhook(event, { id: 'msg_same' });
    const again = await postWebhook(event, { id: 'msg_same' });
    expect([first.status, again.status]).toEqual([200, 200]);
    await calls.waitFor('accept', 'rtc_twice');
    // The same call announced under a new webhook-id is not accepted twice either.
    expect((await postWebhook(event, { id: 'msg_other' })).status).toBe(200);
    await sipCallIn('rtc_next');
    expect(calls.of('accept', 'rtc_twice')).toHaveLength(1);
    expect(
      openai.connections.filter((c) => c.url.searchParams.get('call_id') === 'rtc_twice'),
    ).toHaveLength(1);
  });

  it('rejects a call with 486 when MAX_CONCURRENT_CALLS are live', async () => {
    await startWith({ MAX_CONCURRENT_CALLS: '1' });
    await sipCallIn('rtc_first');
    expect((await postWebhook(incomingCall('rtc_busy'))).status).toBe(200);
    const reject = await calls.waitFor('reject', 'rtc_busy');
    expect(reject.body).toEqual({ status_code: 486 });
    expect(calls.of('accept', 'rtc_busy')).toHaveLength(0);
  });

  it('counts a call whose accept is under way once: MAX_CONCURRENT_CALLS slow accepts all go out', async () => {
    await startWith({ MAX_CONCURRENT_CALLS: '2' });
    calls.delayMsFor.accept = 1000;
    expect((await postWebhook(incomingCall('rtc_slow1'))).status).toBe(200);
    await sleep(100);
    expect((await postWebhook(incomingCall('rtc_slow2'))).status).toBe(200);
    await sidebandOf('rtc_slow2');
    expect(calls.of('accept').map((r) => r.callId)).toEqual(['rtc_slow1', 'rtc_slow2']);
    expect(calls.of('reject')).toHaveLength(0);
  });

  it('does not handle again a busy call redelivered under the same webhook-id (no second 486)', async () => {
    await startWith({ MAX_CONCURRENT_CALLS: '1' });
    await sipCallIn('rtc_first');
    const event = incomingCall('rtc_busy');
    const at = new Date();
    expect((await postWebhook(event, { id: 'msg_busy', at })).status).toBe(200);
    await calls.waitFor('reject', 'rtc_busy');
    // OpenAI's retry of the same delivery: same id, same signed bytes.
    expect((await postWebhook(event, { id: 'msg_busy', at })).status).toBe(200);
    // A later busy call is rejected after the redelivery would have been.
    expect((await postWebhook(incomingCall('rtc_later'))).status).toBe(200);
    await calls.waitFor('reject', 'rtc_later');
    await sleep(100);
    expect(calls.of('reject', 'rtc_busy')).toHaveLength(1);
  });

  it('runs a function call through the same @RealtimeTool: one function_call_output, then one response.create', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_tool');
    const item = {
      id: 'item_fc1',
      type: 'function_call',
      status: 'completed',
      call_id: 'call_hours',
      name: 'get_store_hours',
      arguments: JSON.stringify({ day: 'Saturday' }),
    };
    sideband.send({
      type: 'response.created',
      response: { id: 'resp_fc', status: 'in_progress', output: [] },
    });
    sideband.send({
      type: 'response.function_call_arguments.done',
      response_id: 'resp_fc',
      item_id: item.id,
      output_index: 0,
      call_id: item.call_id,
      name: item.name,
      arguments: item.arguments,
    });
    sideband.send({
      type: 'response.output_item.done',
      response_id: 'resp_fc',
      output_index: 0,
      item,
    });
    sideband.send({
      type: 'response.done',
      response: { id: 'resp_fc', status: 'completed', output: [item] },
    });

    await sideband.waitFor('response.create');
    await sleep(100);
    const outputs = sideband
      .eventsOfType('conversation.item.create')
      .filter((e) => (e.item as { type: string }).type === 'function_call_output');
    expect(outputs).toHaveLength(1);
    expect(outputs[0].item).toMatchObject({ call_id: 'call_hours' });
    // The same tool as the media path, with this call's context (the caller's number).
    expect(JSON.parse((outputs[0].item as { output: string }).output)).toEqual({
      day: 'Saturday',
      hours: '10:00-16:00',
      greet: 'Ada',
    });
    expect(sideband.eventsOfType('response.create')).toHaveLength(1);
    expect(sideband.received.some((e) => e.type.startsWith('input_audio_buffer.'))).toBe(false);
    expect(seenEvents.find((e) => e.event === 'call.tool')).toMatchObject({
      callSid: 'rtc_tool',
      transport: 'sip',
      name: 'get_store_hours',
      ok: true,
    });
  });

  it("shows the caller's transcript in GET /api/calls/:id/events, and the sideband closing ends the call record", async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_words');
    sideband.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      content_index: 0,
      transcript: 'Are you open on Saturday?',
    });
    await waitUntil(
      () => seenEvents.some((e) => e.event === 'call.transcript'),
      'the transcript event',
    );
    // A follower that connects after the words were said still gets them, then what follows.
    const events = await api('/api/calls/rtc_words/events');
    expect(events.headers.get('content-type')).toBe('text/event-stream');
    sideband.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_a',
      item_id: 'item_a1',
      output_index: 0,
      content_index: 0,
      transcript: 'Yes, from ten to four.',
    });
    // An assistant turn is final once the caller has heard it: the server sent all its audio.
    sideband.send({ type: 'output_audio_buffer.stopped', response_id: 'resp_a' });
    await waitUntil(
      () => seenEvents.filter((e) => e.event === 'call.transcript').length === 2,
      'the assistant transcript event',
    );
    // OpenAI closes the sideband when the call is over (the caller hung up).
    sideband.socket.close(1000, 'call ended');
    const text = await events.text();
    expect(text).toMatch(
      /event: call.transcript\ndata: \{.*"role":"caller".*"text":"Are you open on Saturday\?"/,
    );
    expect(text).toMatch(
      /event: call.transcript\ndata: \{.*"role":"assistant".*"text":"Yes, from ten to four."/,
    );
    expect(text).toMatch(/event: call.ended\ndata: \{.*"transport":"sip"/);
    expect(text.match(/event: call.transcript\ndata: \{[^\n]*"role":"caller"/g)).toHaveLength(1);
    expect(text.match(/event: call.started/g)).toHaveLength(1);
    // Just after the end, a new follower gets the whole story and the stream closes.
    const late = await (await api('/api/calls/rtc_words/events')).text();
    expect(late.match(/event: call\.[a-z]+/g)).toEqual([
      'event: call.started',
      'event: call.transcript',
      'event: call.transcript',
      'event: call.ended',
    ]);
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
      callSid: 'rtc_words',
      outcome: 'completed',
      turns: { caller: 1, assistant: 1 },
    });
    const list = (await (await api('/api/calls')).json()) as { calls: unknown[] };
    expect(list.calls).toEqual([]);
    // The caller's side ended it: nothing to hang up.
    expect(calls.of('hangup')).toHaveLength(0);
  });

  it('hangs up through /hangup from the call-control API', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_hang');
    const response = await api('/api/calls/rtc_hang/hangup', { method: 'POST' });
    expect(response.status).toBe(200);
    const hangup = await calls.waitFor('hangup', 'rtc_hang');
    expect(hangup.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    await sideband.waitForClose();
    expect(seenEvents.filter((e) => e.event === 'call.ended')).toHaveLength(1);
    expect(calls.of('hangup')).toHaveLength(1);
  });

  it('keeps the call live when OpenAI refuses the API hang-up: 502, a warning, and a retry ends it', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_hang_refused');
    calls.statusFor.hangup = [500, 500, 500];
    const refused = await api('/api/calls/rtc_hang_refused/hangup', { method: 'POST' });
    expect(refused.status).toBe(502);
    expect(calls.of('hangup', 'rtc_hang_refused')).toHaveLength(3);
    const listed = (await (await api('/api/calls')).json()) as { calls: { callSid: string }[] };
    expect(listed.calls.map((c) => c.callSid)).toContain('rtc_hang_refused');
    expect(sideband.socket.readyState).toBe(sideband.socket.OPEN);
    expect(seenEvents.filter((e) => e.event === 'call.ended')).toHaveLength(0);
    expect(bridge.logs.matching(/hang-up through the API failed, the call goes on/)).toHaveLength(
      1,
    );

    const retried = await api('/api/calls/rtc_hang_refused/hangup', { method: 'POST' });
    expect(retried.status).toBe(200);
    await sideband.waitForClose();
    expect(seenEvents.filter((e) => e.event === 'call.ended')).toHaveLength(1);
  });

  it('transfers through /refer from the call-control API, to an allowed number only', async () => {
    await startWith();
    await sipCallIn('rtc_xfer');
    const refused = await api('/api/calls/rtc_xfer/transfer', {
      method: 'POST',
      body: JSON.stringify({ to: '+15550000000' }),
    });
    expect(refused.status).toBe(400);
    for (const body of [{}, { to: 'somewhere' }, { to: '+15559990000', number: '+15559990000' }]) {
      const bad = await api('/api/calls/rtc_xfer/transfer', {
        method: 'POST',
        body: JSON.stringify(body),
      });
      expect(bad.status).toBe(400);
    }
    expect(calls.of('refer')).toHaveLength(0);

    const response = await api('/api/calls/rtc_xfer/transfer', {
      method: 'POST',
      // `number` is taken as `to` (the transfer_call tool's name for it).
      body: JSON.stringify({ number: '+15559990000' }),
    });
    expect(response.status).toBe(200);
    const refer = await calls.waitFor('refer', 'rtc_xfer');
    expect(refer.body).toEqual({ target_uri: 'tel:+15559990000' });
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
      outcome: 'transferred',
    });
  });

  it('transfers to a listed sip: or sips: URI, its host compared case-insensitively', async () => {
    await startWith({
      TRANSFER_ALLOWED_NUMBERS: 'sip:desk@PBX.example.com, sips:desk@example.com',
    });
    await sipCallIn('rtc_xsip');
    const offList = await api('/api/calls/rtc_xsip/transfer', {
      method: 'POST',
      body: JSON.stringify({ to: 'sip:desk@example.com' }),
    });
    expect(offList.status).toBe(400);
    const response = await api('/api/calls/rtc_xsip/transfer', {
      method: 'POST',
      body: JSON.stringify({ to: 'sip:desk@pbx.example.com' }),
    });
    expect(response.status).toBe(200);
    const refer = await calls.waitFor('refer', 'rtc_xsip');
    expect(refer.body).toEqual({ target_uri: 'sip:desk@pbx.example.com' });
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
  });

  it('ends the call with end_call after the goodbye has played (output_audio_buffer.stopped)', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_bye');
    const item = {
      id: 'item_end',
      type: 'function_call',
      call_id: 'call_end',
      name: 'end_call',
      arguments: '{"reason":"caller is done"}',
    };
    sideband.send({ type: 'response.created', response: { id: 'resp_e', output: [] } });
    sideband.send({
      type: 'response.output_item.done',
      response_id: 'resp_e',
      output_index: 0,
      item,
    });
    sideband.send({
      type: 'response.done',
      response: { id: 'resp_e', status: 'completed', output: [item] },
    });
    // The bridge asks for the response that follows the tool output: the goodbye.
    await sideband.waitFor('response.create');
    const goodbyeId = sideband.responseIds[0];
    sideband.send({ type: 'output_audio_buffer.started', response_id: goodbyeId });
    sideband.send({
      type: 'response.done',
      response: {
        id: goodbyeId,
        status: 'completed',
        output: [{ type: 'message', content: [{ type: 'output_audio', transcript: 'Goodbye!' }] }],
      },
    });
    await sleep(100);
    // Still playing to the caller: no hang-up before the server's buffer has drained.
    expect(calls.of('hangup')).toHaveLength(0);
    sideband.send({ type: 'output_audio_buffer.stopped', response_id: goodbyeId });
    await calls.waitFor('hangup', 'rtc_bye');
    await sideband.waitForClose();
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
      outcome: 'completed',
      reason: 'end_call: caller is done',
    });
  });

  it('reopens a sideband that dropped while the call is live', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_drop');
    sideband.socket.terminate();
    const again = await sidebandOf('rtc_drop', 1);
    expect(again.url.searchParams.get('call_id')).toBe('rtc_drop');
    const list = (await (await api('/api/calls')).json()) as { calls: unknown[] };
    expect(list.calls).toHaveLength(1);
    expect(seenEvents.some((e) => e.event === 'call.ended')).toBe(false);
  });

  it('sends a tool output settled while the sideband was down once it reopens, then asks the model to go on', async () => {
    answerOrderStatus = undefined;
    await startWith();
    const { sideband } = await sipCallIn('rtc_tool_drop');
    // The response carrying the call is under way when the socket drops: its done is lost.
    const item = {
      id: 'item_os',
      type: 'function_call',
      call_id: 'call_os',
      name: 'order_status',
      arguments: '{}',
    };
    sideband.send({ type: 'response.created', response: { id: 'resp_os', output: [] } });
    sideband.send({
      type: 'response.output_item.done',
      response_id: 'resp_os',
      output_index: 0,
      item,
    });
    await waitUntil(() => answerOrderStatus !== undefined, 'order_status to run');
    openai.acceptDelayMs = 500;
    await dropSideband(sideband);
    answerOrderStatus!('shipped');

    const again = await sidebandOf('rtc_tool_drop', 1);
    await again.waitFor('response.create');
    await sleep(100);
    // The session lives on at OpenAI: its call waits for this output, sent once, before the ask.
    expect(again.received.map((event) => event.type)).toEqual([
      'conversation.item.create',
      'response.create',
    ]);
    expect(again.received[0].item).toMatchObject({
      type: 'function_call_output',
      call_id: 'call_os',
    });
  });

  it('tells the model keys pressed just before the sideband dropped once it reopens, in order with an operator say, once', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_keys_drop');
    for (const key of ['4', '2']) {
      sideband.send({ type: 'input_audio_buffer.dtmf_event_received', event: key, received_at: 1 });
    }
    await waitUntil(
      () => seenEvents.filter((e) => e.event === 'call.dtmf').length === 2,
      'the bridge to take the key presses',
    );
    // The digits go to the model after 800 ms of quiet: by then the sideband is reconnecting.
    openai.acceptDelayMs = 1500;
    await dropSideband(sideband);
    // An operator's sentence asked for meanwhile (the console's and the cluster's path).
    const said = await bridge.app
      .get(CallControlService)
      .say('rtc_keys_drop', 'One moment, please.');
    expect(said).toMatchObject({ ok: true });

    const again = await sidebandOf('rtc_keys_drop', 1);
    await again.waitFor('response.create');
    await sleep(100);
    expect(sideband.eventsOfType('conversation.item.create')).toEqual([]);
    // The session lives on at OpenAI: the digits are in it before anything is asked of the model.
    expect(again.received.map((event) => event.type)).toEqual([
      'conversation.item.create',
      'response.create',
    ]);
    expect(JSON.stringify(again.received[0].item)).toContain('The caller pressed 4 2');
    expect(again.received[1].response).toMatchObject({
      instructions: 'Say exactly this, and nothing else: "One moment, please."',
    });
    again.send({
      type: 'response.done',
      response: { id: again.responseIds[0], status: 'completed', output: [] },
    });
    await waitUntil(
      () => again.eventsOfType('response.create').length === 2,
      'the model to answer the key presses',
    );
    await sleep(100);
    expect(again.eventsOfType('conversation.item.create')).toHaveLength(1);
    expect(again.eventsOfType('response.create')[1].response).not.toHaveProperty('instructions');
  });

  it('sends a session change made while the sideband was down once it reopens, before the output it came with', async () => {
    answerOrderStatus = undefined;
    await startWith();
    const { sideband } = await sipCallIn('rtc_update_drop');
    modelCalls(sideband, 'resp_up', 'order_status', {});
    await waitUntil(() => answerOrderStatus !== undefined, 'order_status to run');
    openai.acceptDelayMs = 500;
    await dropSideband(sideband);
    answerOrderStatus!('shipped', 'The order has shipped: offer its tracking link.');

    const again = await sidebandOf('rtc_update_drop', 1);
    await again.waitFor('response.create');
    await sleep(100);
    // No re-configuration follows a reopen on SIP: the change must reach the living session.
    expect(again.received.map((event) => event.type)).toEqual([
      'session.update',
      'conversation.item.create',
      'response.create',
    ]);
    expect(again.received[0].session).toMatchObject({
      instructions: 'The order has shipped: offer its tracking link.',
    });
  });

  it('times the goodbye from its transcript when the server sends no output-audio events', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_quiet');
    modelCalls(sideband, 'resp_q', 'end_call', {});
    const doneAt = Date.now();
    await lastSentenceDone(sideband, 'Thanks for calling, goodbye!');
    await calls.waitFor('hangup', 'rtc_quiet');
    // 28 characters at 15 a second + 750 ms: about 2.6 s after the goodbye's response.done.
    expect(Date.now() - doneAt).toBeGreaterThanOrEqual(2000);
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
      outcome: 'completed',
    });
  });

  it('transfers with transfer_call after the handover sentence, through /refer', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_handover');
    modelCalls(sideband, 'resp_h', 'transfer_call', { number: '+15559990000' });
    const id = await lastSentenceDone(sideband, 'Transferring you now.');
    sideband.send({ type: 'output_audio_buffer.stopped', response_id: id });
    const refer = await calls.waitFor('refer', 'rtc_handover');
    expect(refer.body).toEqual({ target_uri: 'tel:+15559990000' });
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
      outcome: 'transferred',
    });
    expect(calls.of('hangup')).toHaveLength(0);
  });

  it('records a transfer that OpenAI refused as failed, saying the transfer failed', async () => {
    await startWith();
    calls.statusFor.refer = 500;
    const { sideband } = await sipCallIn('rtc_refer_refused');
    modelCalls(sideband, 'resp_h', 'transfer_call', { number: '+15559990000' });
    const id = await lastSentenceDone(sideband, 'Transferring you now.');
    sideband.send({ type: 'output_audio_buffer.stopped', response_id: id });
    await calls.waitFor('refer', 'rtc_refer_refused');
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
      outcome: 'failed',
      reason: 'transfer to +15559990000 failed',
    });
  });

  it('hangs up when a dropped sideband cannot be reopened within its attempts', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_lost');
    openai.rejectWithStatus = 503;
    sideband.socket.terminate();
    const hangup = await calls.waitFor('hangup', 'rtc_lost');
    expect(hangup.callId).toBe('rtc_lost');
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({ outcome: 'failed' });
    expect(
      bridge.logs.matching(/could not open the sideband after 4 attempts/).length,
    ).toBeGreaterThan(0);
  });

  it('hangs up a call whose sideband drops right after each open, within the attempts of one outage', async () => {
    await startWith();
    await sipCallIn('rtc_flap');
    const sidebands = () =>
      openai.connections.filter((c) => c.url.searchParams.get('call_id') === 'rtc_flap');
    // Each sideband is cut as soon as it is there (a flapping path or proxy).
    const cutter = setInterval(() => {
      for (const c of sidebands()) if (c.socket.readyState === c.socket.OPEN) c.socket.terminate();
    }, 5);
    try {
      await calls.waitFor('hangup', 'rtc_flap');
    } finally {
      clearInterval(cutter);
    }
    expect(sidebands().length).toBeLessThanOrEqual(SIDEBAND_BACKOFF_MS.length);
    expect(bridge.logs.matching(/sideband reconnected/).length).toBeLessThan(
      SIDEBAND_BACKOFF_MS.length,
    );
  });

  it('ends the call record without a hang-up when the reopened sideband says the call is gone (404)', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_gone404');
    openai.rejectWithStatus = 404;
    sideband.socket.terminate();
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
      outcome: 'completed',
    });
    expect(calls.of('hangup')).toHaveLength(0);
  });

  it('answers 503 while draining, with no calls-API request', async () => {
    await startWith();
    bridge.app.get(CallRegistry).stopAdmitting();
    expect((await postWebhook(incomingCall('rtc_drain'))).status).toBe(503);
    expect(calls.requests).toHaveLength(0);
  });

  it('hangs up a SIP call still live when the bridge shuts down (not left talking without tools)', async () => {
    await startWith();
    const { sideband } = await sipCallIn('rtc_shutdown');
    await bridge.close();
    bridge = undefined as unknown as RunningBridge;
    await calls.waitFor('hangup', 'rtc_shutdown');
    await sideband.waitForClose();
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({ outcome: 'shutdown' });
  });

  it('ends the call record when accept fails, without opening a sideband', async () => {
    await startWith();
    calls.statusFor.accept = 404;
    expect((await postWebhook(incomingCall('rtc_gone'))).status).toBe(200);
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'the call to end');
    expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({ outcome: 'failed' });
    expect(calls.of('accept')).toHaveLength(1);
    expect(openai.connections).toHaveLength(0);
  });

  it('has no webhook route without OPENAI_WEBHOOK_SECRET', async () => {
    await startWith({ OPENAI_WEBHOOK_SECRET: '' });
    const response = await postWebhook(incomingCall('rtc_none'));
    expect(response.status).toBe(404);
    expect(calls.requests).toHaveLength(0);
  });
});
