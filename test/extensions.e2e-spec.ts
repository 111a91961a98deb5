import { Injectable, Module, Scope } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CallContext } from '../src/call/call-context.js';
import type { AnyCallEvent } from '../src/events/call-events.js';
import { StoreHoursModule } from '../examples/store-hours.module.js';
import { RealtimeTool } from '../src/tools/realtime-tool.decorator.js';
import { MAX_OUTBOUND_PARAMETERS_BYTES } from '../src/call-control/call-control.controller.js';
import { MAX_TWIML_VALUE_LENGTH } from '../src/twilio/twiml.js';
import { mulawTone } from './support/audio.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { EventsReceiver } from './support/events-receiver.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioRest } from './support/fake-twilio-rest.js';
import {
  FakeTwilioCall,
  parseStreamTwiml,
  postTwiml,
  TEST_ACCOUNT_SID,
} from './support/fake-twilio.js';
import { modelCallsTool, outputsOf } from './support/tool-calls.js';
import { sleep, waitUntil } from './support/wait.js';
import { TEST_API_TOKEN } from './support/secrets.js';

const seenEvents: AnyCallEvent[] = [];
/** Answers the running `order_status` (a slow backend), once it runs. */
let answerOrderStatus: ((status: string) => void) | undefined;

@Injectable({ scope: Scope.REQUEST })
class PerCallLookup {
  static created = 0;
  constructor(readonly call: CallContext) {
    PerCallLookup.created++;
  }
}

@Injectable()
class TestTools {
  @RealtimeTool({ name: 'explode', description: 'Always fails' })
  explode(): never {
    throw new Error('the CRM is down');
  }

  @RealtimeTool({ name: 'hang_forever', description: 'Never answers' })
  hangForever(): Promise<never> {
    return new Promise(() => undefined);
  }

  @RealtimeTool({ name: 'order_status', description: 'Status of an order, from a slow backend' })
  orderStatus(): Promise<{ status: string }> {
    return new Promise((resolve) => (answerOrderStatus = (status) => resolve({ status })));
  }

  @RealtimeTool({ name: 'whoami', description: 'Echoes the call context' })
  whoami(_args: Record<string, unknown>, call: CallContext) {
    return { callSid: call.callSid, from: call.from, to: call.to, turns: call.transcript.length };
  }

  @RealtimeTool({ name: 'lookup_twice', description: 'Resolves the per-call lookup twice' })
  async lookupTwice(_args: Record<string, unknown>, call: CallContext) {
    const [a, b] = [await call.resolve(PerCallLookup), await call.resolve(PerCallLookup)];
    return { same: a === b, callSid: a.call.callSid };
  }

  @OnEvent('call.*')
  record(event: AnyCallEvent): void {
    seenEvents.push(event);
  }
}

@Module({ providers: [TestTools, PerCallLookup] })
class TestToolsModule {}

describe('extension points and call control', () => {
  let openai: FakeRealtimeServer;
  let rest: FakeTwilioRest;
  let bridge: RunningBridge;

  async function startWith(env: Record<string, string> = {}) {
    bridge = await startBridge(
      {
        OPENAI_REALTIME_URL: openai.url,
        TWILIO_API_BASE_URL: rest.url,
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
        ...env,
      },
      [StoreHoursModule, TestToolsModule],
    );
  }

  async function callIn(options = {}) {
    const call = await FakeTwilioCall.dial(bridge.baseUrl, options);
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  beforeEach(async () => {
    seenEvents.length = 0;
    answerOrderStatus = undefined;
    openai = new FakeRealtimeServer();
    rest = new FakeTwilioRest();
    await Promise.all([openai.start(), rest.start()]);
  });

  afterEach(async () => {
    await bridge?.close();
    await Promise.all([openai.stop(), rest.stop()]);
  });

  describe('tools', () => {
    it('lists every discovered tool in session.update', async () => {
      await startWith();
      const { upstream } = await callIn();
      const tools = (
        upstream.received[0].session as { tools: Array<{ name: string; type: string }> }
      ).tools;
      expect(tools.map((t) => t.name).sort()).toEqual([
        'end_call',
        'explode',
        'get_store_hours',
        'hang_forever',
        'lookup_twice',
        'order_status',
        'whoami',
      ]);
      expect(tools.every((t) => t.type === 'function')).toBe(true);
    });

    it('runs a tool once per call_id with the call context, and continues once after response.done', async () => {
      await startWith();
      const { upstream } = await callIn();
      const response = modelCallsTool(upstream, 'resp_t1', 'call_1', 'get_store_hours', {
        day: 'Saturday',
      });
      await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');
      await sleep(50);
      // The response that carried the call is still running: no response.create yet.
      expect(upstream.eventsOfType('response.create')).toHaveLength(0);
      response.done();
      await upstream.waitFor('response.create');
      await sleep(100);
      expect(outputsOf(upstream)).toHaveLength(1);
      expect(upstream.eventsOfType('response.create')).toHaveLength(1);
      const output = outputsOf(upstream)[0].item as { call_id: string; output: string };
      expect(output.call_id).toBe('call_1');
      expect(JSON.parse(output.output)).toEqual({
        day: 'Saturday',
        hours: '10:00-16:00',
        greet: 'Ada',
      });
      expect(seenEvents.find((e) => e.event === 'call.tool')).toMatchObject({
        name: 'get_store_hours',
        ok: true,
        callId: 'call_1',
      });
    });

    it('waits for another active response to finish before asking the model to continue', async () => {
      await startWith();
      const { upstream } = await callIn();
      const carrying = modelCallsTool(upstream, 'resp_a', 'call_a', 'whoami', {});
      await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');
      // The caller spoke meanwhile: the server started another response.
      upstream.send({
        type: 'response.created',
        response: { id: 'resp_b', status: 'in_progress', output: [] },
      });
      carrying.done();
      await sleep(100);
      expect(upstream.eventsOfType('response.create')).toHaveLength(0);
      upstream.send({
        type: 'response.done',
        response: { id: 'resp_b', status: 'completed', output: [] },
      });
      await upstream.waitFor('response.create');
      await sleep(50);
      expect(upstream.eventsOfType('response.create')).toHaveLength(1);
    });

    describe('when the OpenAI socket is replaced while a tool runs', () => {
      type Item = { type?: string; call_id?: string };
      const itemsOf = (upstream: FakeRealtimeConnection) =>
        upstream.eventsOfType('conversation.item.create').map((event) => event.item as Item);

      async function toolRunsAndSocketDrops(done: boolean) {
        const { call, upstream: first } = await callIn();
        const response = modelCallsTool(first, 'resp_o', 'call_o', 'order_status', {});
        if (done) response.done();
        await waitUntil(() => answerOrderStatus !== undefined, 'order_status to run');
        first.socket.terminate();
        return { call, first };
      }

      it('gives the new session the call in its re-seed, then the output, then asks it to go on', async () => {
        await startWith();
        await toolRunsAndSocketDrops(true);
        const second = await openai.connection(1);
        await second.waitFor('session.update');
        await sleep(100);
        expect(itemsOf(second)).toMatchObject([{ type: 'function_call', call_id: 'call_o' }]);

        answerOrderStatus!('shipped');
        await second.waitFor('response.create');
        // The server refuses an output whose call it has not seen: the call came first.
        expect(itemsOf(second)).toMatchObject([
          { type: 'function_call', call_id: 'call_o' },
          { type: 'function_call_output', call_id: 'call_o' },
        ]);
        expect(second.received.at(-1)?.type).toBe('response.create');
      });

      it('asks the new session to go on once the output is in, when the lost one dropped before response.done', async () => {
        await startWith();
        await toolRunsAndSocketDrops(false);
        const second = await openai.connection(1);
        await second.waitFor('session.update');
        await sleep(200);
        // The tool's continuation asks for the answer: not the lost answer as well, before it.
        expect(second.eventsOfType('response.create')).toHaveLength(0);

        answerOrderStatus!('shipped');
        await second.waitFor('response.create');
        await sleep(100);
        expect(second.eventsOfType('response.create')).toHaveLength(1);
        expect(itemsOf(second).map((item) => item.type)).toEqual([
          'function_call',
          'function_call_output',
        ]);
      });

      it('sends an output that settles while no session is open to the new one once, in its re-seed', async () => {
        await startWith();
        openai.acceptDelayMs = 500;
        await toolRunsAndSocketDrops(true);
        await waitUntil(
          () => bridge.logs.matching(/socket closed mid-call/).length === 1,
          'the bridge to see the socket close',
        );
        answerOrderStatus!('shipped');
        const second = await openai.connection(1);
        await second.waitFor('response.create');
        await sleep(100);
        expect(itemsOf(second)).toMatchObject([
          { type: 'function_call', call_id: 'call_o' },
          { type: 'function_call_output', call_id: 'call_o' },
        ]);
        expect(second.eventsOfType('response.create')).toHaveLength(1);
      });
    });

    it('gives the model an error output when a tool throws, times out, or does not exist', async () => {
      await startWith({ TOOL_TIMEOUT_MS: '200' });
      const { upstream } = await callIn();
      const response = 'resp_multi';
      upstream.send({
        type: 'response.created',
        response: { id: response, status: 'in_progress', output: [] },
      });
      const items = [
        { call_id: 'c_throw', name: 'explode' },
        { call_id: 'c_slow', name: 'hang_forever' },
        { call_id: 'c_nope', name: 'no_such_tool' },
      ].map((c) => ({ type: 'function_call', arguments: '{}', ...c }));
      upstream.send({
        type: 'response.done',
        response: { id: response, status: 'completed', output: items },
      });

      await waitUntil(() => outputsOf(upstream).length === 3, 'three outputs');
      const outputs = Object.fromEntries(
        outputsOf(upstream).map((e) => {
          const item = e.item as { call_id: string; output: string };
          return [item.call_id, JSON.parse(item.output).error as string];
        }),
      );
      expect(outputs).toEqual({
        c_throw: 'the CRM is down',
        c_slow: 'the tool did not answer within 200 ms',
        c_nope: 'unknown tool "no_such_tool"',
      });
      await upstream.waitFor('response.create');
      expect(upstream.eventsOfType('response.create')).toHaveLength(1);
    });

    it('creates a per-call provider once per call, with that call injected', async () => {
      await startWith();
      PerCallLookup.created = 0;
      const calls = [await callIn(), await callIn()];
      for (const [n, { upstream }] of calls.entries()) {
        modelCallsTool(upstream, `r${n}`, `c${n}`, 'lookup_twice', {}).done();
        await waitUntil(() => outputsOf(upstream).length === 1, 'the output');
        const output = JSON.parse((outputsOf(upstream)[0].item as { output: string }).output);
        expect(output).toEqual({ same: true, callSid: calls[n].call.callSid });
      }
      expect(PerCallLookup.created).toBe(2);
    });

    it('ends the call with end_call only after the goodbye has played, through the REST API', async () => {
      await startWith();
      const { call, upstream } = await callIn({ acknowledgeMarks: false });
      modelCallsTool(upstream, 'resp_end', 'call_end', 'end_call', {
        reason: 'caller said bye',
      }).done();
      await upstream.waitFor('response.create');
      const goodbye = upstream.responseIds[0];
      upstream.audioDelta(goodbye, 'item_bye', mulawTone(300, 200));
      upstream.audioDone(goodbye, 'item_bye');
      upstream.send({
        type: 'response.done',
        response: { id: goodbye, status: 'completed', output: [] },
      });
      // The goodbye is the model's answer to end_call's output, which told it to say one.
      const creates = upstream.eventsOfType('response.create');
      expect(creates).toHaveLength(1);
      expect(creates[0].response).not.toHaveProperty('instructions');
      await waitUntil(() => call.framesOf('mark').length === 2, 'the goodbye and its final mark');
      await sleep(200);
      expect(rest.requests).toHaveLength(0);
      for (const mark of call.framesOf('mark')) call.ackMark(mark.mark.name as string);

      const hangup = await rest.waitForRequest();
      expect(hangup.path).toBe(
        `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls/${call.callSid}.json`,
      );
      expect(hangup.form).toEqual({ Status: 'completed' });
      await call.waitForClose();
    });

    it('asks for the time-limit goodbye while a tool runs, and not for an answer to its output after it', async () => {
      await startWith({ MAX_CALL_DURATION_S: '1' });
      const { call, upstream } = await callIn();
      modelCallsTool(upstream, 'resp_o', 'call_o', 'order_status', {}).done();
      await waitUntil(() => answerOrderStatus !== undefined, 'order_status to run');

      // The limit passes while the backend works: the goodbye is asked for with its instructions.
      const goodbye = await upstream.waitFor('response.create');
      expect(goodbye.response).toMatchObject({ instructions: expect.stringMatching(/time limit/) });
      answerOrderStatus!('shipped');
      await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');
      const id = upstream.responseIds[0];
      upstream.audioDelta(id, 'item_bye', mulawTone(300, 100));
      upstream.audioDone(id, 'item_bye');
      upstream.send({ type: 'response.done', response: { id, status: 'completed', output: [] } });

      // The output is in the conversation, but nothing is said after the goodbye.
      expect(await call.waitForClose()).toBe(1000);
      expect(upstream.eventsOfType('response.create')).toHaveLength(1);
    });

    it('transfers with transfer_call after the handover sentence, redirecting the call to <Dial>', async () => {
      await startWith({ TRANSFER_NUMBER: '+15557654321' });
      const { call, upstream } = await callIn();
      modelCallsTool(upstream, 'resp_tr', 'call_tr', 'transfer_call', {}).done();
      await upstream.waitFor('response.create');
      const handover = upstream.responseIds[0];
      upstream.audioDelta(handover, 'item_h', mulawTone(300, 100));
      upstream.audioDone(handover, 'item_h');
      upstream.send({
        type: 'response.done',
        response: { id: handover, status: 'completed', output: [] },
      });
      const redirect = await rest.waitForRequest();
      expect(redirect.form.Twiml).toBe(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+15557654321</Dial></Response>',
      );
      await call.waitForClose();
    });

    it('transfers nothing with transfer_call when no transfer number is configured', async () => {
      await startWith();
      const { upstream } = await callIn();
      modelCallsTool(upstream, 'resp_tx', 'call_tx', 'transfer_call', {
        number: '+19005550123',
      }).done();
      await waitUntil(() => outputsOf(upstream).length === 1, 'the tool output');
      const output = (outputsOf(upstream)[0].item as { output: string }).output;
      expect(JSON.parse(output)).toMatchObject({ error: expect.stringContaining('transfer_call') });
      await sleep(200);
      expect(rest.requests).toHaveLength(0);
    });
  });

  it('passes DTMF to the model as one text and to hooks as events', async () => {
    await startWith();
    const { call, upstream } = await callIn();
    for (const digit of ['1', '2', '#']) {
      call.send({
        event: 'dtmf',
        sequenceNumber: '9',
        streamSid: call.streamSid,
        dtmf: { track: 'inbound_track', digit },
      });
    }
    const message = await upstream.waitFor('conversation.item.create');
    expect(JSON.stringify(message.item)).toContain(
      'The caller pressed 1 2 # on their phone keypad',
    );
    await upstream.waitFor('response.create');
    expect(
      seenEvents.filter((e) => e.event === 'call.dtmf').map((e) => (e as { digit: string }).digit),
    ).toEqual(['1', '2', '#']);
  });

  it('emits call.started, call.transcript and call.ended with duration, reason and token usage', async () => {
    await startWith();
    const { call, upstream } = await callIn();
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'i1',
      content_index: 0,
      transcript: 'Hi there',
    });
    upstream.send({
      type: 'response.done',
      response: {
        id: 'r1',
        status: 'completed',
        output: [],
        usage: { total_tokens: 42, input_tokens: 30, output_tokens: 12 },
      },
    });
    await sleep(50);
    call.stop();
    await waitUntil(() => seenEvents.some((e) => e.event === 'call.ended'), 'call.ended');
    expect(seenEvents.map((e) => e.event)).toEqual([
      'call.started',
      'call.transcript',
      'call.ended',
    ]);
    expect(seenEvents[0]).toMatchObject({
      callSid: call.callSid,
      from: '+15550001111',
      to: '+15550002222',
    });
    expect(seenEvents[2]).toMatchObject({
      reason: expect.stringMatching(/stop/),
      turns: { caller: 1, assistant: 0 },
      usage: { totalTokens: 42, inputTokens: 30, outputTokens: 12 },
    });
  });

  it('POSTs each call event to CALL_EVENTS_WEBHOOK_URL with an HMAC signature', async () => {
    const webhook = await EventsReceiver.start();
    try {
      await startWith(webhook.env);
      const { call } = await callIn();
      call.stop();
      await webhook.event('call.ended');
      expect(webhook.events('call.started')).toHaveLength(1);
      expect(webhook.received.every((delivery) => delivery.signedRight)).toBe(true);
    } finally {
      await webhook.close();
    }
  });

  describe('profiles', () => {
    const profiles = JSON.stringify({
      sales: {
        instructions: 'You sell boats.',
        voice: 'cedar',
        greeting: 'Boats here!',
        numbers: ['+15550002222'],
      },
      support: { instructions: 'You fix boats.' },
    });

    it('picks the profile of the dialled number, carries it as a Parameter, and applies it to the session', async () => {
      await startWith({ CALL_PROFILES: profiles });
      const { call, upstream } = await callIn();
      expect(call.parameters.profile).toBe('sales');
      const session = upstream.received[0].session as {
        instructions: string;
        audio: { output: { voice: string } };
      };
      expect(session.instructions).toBe('You sell boats.');
      expect(session.audio.output.voice).toBe('cedar');
      expect(JSON.stringify(await upstream.waitFor('response.create'))).toContain('Boats here!');
    });

    it('lets ?profile= on the webhook URL choose', async () => {
      await startWith({ CALL_PROFILES: profiles });
      const response = await postTwiml(
        bridge.baseUrl,
        { CallSid: 'CA541c29c64f3f6afaa494ea320d5bf7ca', To: '+15550002222' },
        { path: '/api/twiml?profile=support' },
      );
      expect(parseStreamTwiml(await response.text()).parameters.profile).toBe('support');
    });
  });

  describe('the call-control API', () => {
    const api = (path: string, init: RequestInit = {}, token: string | null = TEST_API_TOKEN) =>
      fetch(`${bridge.baseUrl}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });

    it('does not exist without API_TOKEN', async () => {
      await startWith();
      expect((await api('/api/calls')).status).toBe(404);
    });

    it('refuses a missing or wrong token', async () => {
      await startWith({ API_TOKEN: TEST_API_TOKEN });
      expect((await api('/api/calls', {}, null)).status).toBe(401);
      expect((await api('/api/calls', {}, 'nope')).status).toBe(401);
    });

    it('starts the largest call it accepts: a start frame over the old 8 KiB limit is taken', async () => {
      await startWith({
        API_TOKEN: TEST_API_TOKEN,
        TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
        TWILIO_PHONE_NUMBER: '+15550009999',
      });
      // 20 parameters as large as the total allows, in a 3-byte character; the webhook's caller
      // and number at the length the TwiML writes them.
      const euro = '\u20ac';
      const value = euro.repeat(Math.floor((MAX_OUTBOUND_PARAMETERS_BYTES / 20 - 70) / 3));
      const parameters = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [
          `p${String(i).padStart(2, '0')}`.padEnd(64, 'x'),
          value,
        ]),
      );
      expect(Buffer.byteLength(JSON.stringify(parameters))).toBeLessThanOrEqual(
        MAX_OUTBOUND_PARAMETERS_BYTES,
      );
      const created = await api('/api/calls', {
        method: 'POST',
        body: JSON.stringify({ to: '+15551112222', parameters }),
      });
      expect(created.status).toBe(201);
      const { callSid } = (await created.json()) as { callSid: string };
      const call = await FakeTwilioCall.dial(bridge.baseUrl, {
        callSid,
        from: euro.repeat(MAX_TWIML_VALUE_LENGTH),
        to: euro.repeat(MAX_TWIML_VALUE_LENGTH),
      });
      expect(Buffer.byteLength(JSON.stringify(call.parameters))).toBeGreaterThan(8 * 1024);
      await (await openai.connection(0)).waitFor('session.update');
      expect(call.parameters[Object.keys(parameters)[19]]).toBe(value);

      // One byte over the total (within every other bound) is refused, before Twilio is asked.
      const last = Object.keys(parameters)[19];
      const spare = MAX_OUTBOUND_PARAMETERS_BYTES - Buffer.byteLength(JSON.stringify(parameters));
      const overByOne = { ...parameters, [last]: value + 'x'.repeat(spare + 1) };
      expect(Buffer.byteLength(JSON.stringify(overByOne))).toBe(MAX_OUTBOUND_PARAMETERS_BYTES + 1);
      const over = await api('/api/calls', {
        method: 'POST',
        body: JSON.stringify({ to: '+15551112222', parameters: overByOne }),
      });
      expect(over.status).toBe(400);
      expect(await over.text()).toMatch(/bytes in all, as JSON/);
    });

    it('places an outbound call whose TwiML, token and instructions are made for the real CallSid', async () => {
      await startWith({
        API_TOKEN: TEST_API_TOKEN,
        TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
        TWILIO_PHONE_NUMBER: '+15550009999',
      });
      const created = await api('/api/calls', {
        method: 'POST',
        body: JSON.stringify({
          to: '+15551112222',
          instructions: 'Remind them of the dentist.',
          greeting: 'Hi, it is the clinic.',
          parameters: { patient: 'p-7' },
        }),
      });
      expect(created.status).toBe(201);
      const { callSid } = (await created.json()) as { callSid: string };
      const request = rest.requests[0];
      expect(request.path).toBe(`/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls.json`);
      expect(request.form).toMatchObject({
        To: '+15551112222',
        From: '+15550009999',
        Url: `${bridge.baseUrl}/api/twiml`,
        Method: 'POST',
      });
      expect(request.form.Twiml).toBeUndefined();

      // Twilio, once answered, fetches our TwiML for that CallSid and opens the stream.
      const call = await FakeTwilioCall.dial(bridge.baseUrl, { callSid });
      expect(call.parameters.patient).toBe('p-7');
      const upstream = await openai.connection(0);
      const update = await upstream.waitFor('session.update');
      expect((update.session as { instructions: string }).instructions).toBe(
        'Remind them of the dentist.',
      );
      expect(JSON.stringify(await upstream.waitFor('response.create'))).toContain(
        'Hi, it is the clinic.',
      );

      const listed = (await (await api('/api/calls')).json()) as {
        calls: Array<{ callSid: string }>;
      };
      expect(listed.calls.map((c) => c.callSid)).toEqual([callSid]);

      expect((await api(`/api/calls/${callSid}/hangup`, { method: 'POST' })).status).toBe(200);
      expect(rest.requests[1]).toMatchObject({
        path: `/2010-04-01/Accounts/${TEST_ACCOUNT_SID}/Calls/${callSid}.json`,
        form: { Status: 'completed' },
      });
      await call.waitForClose();
    });

    it('rejects a malformed outbound request with the reason', async () => {
      await startWith({
        API_TOKEN: TEST_API_TOKEN,
        TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
        TWILIO_PHONE_NUMBER: '+15550009999',
      });
      const response = await api('/api/calls', {
        method: 'POST',
        body: JSON.stringify({ to: '555' }),
      });
      expect(response.status).toBe(400);
      expect(JSON.stringify(await response.json())).toContain('E.164');
      // Instructions the session could not carry: 15,000 characters in a 90 KB body (under
      // MAX_HTTP_BODY_BYTES), each a 6-byte escape.
      const controls = await api('/api/calls', {
        method: 'POST',
        body: JSON.stringify({ to: '+15551112222', instructions: '\u0001'.repeat(15_000) }),
      });
      expect(controls.status).toBe(400);
      expect(JSON.stringify(await controls.json())).toContain('MAX_INSTRUCTIONS_BYTES');
      expect(rest.requests).toHaveLength(0);
    });

    it('refuses an outbound call it cannot place as every call-control route refuses', async () => {
      await startWith({ API_TOKEN: TEST_API_TOKEN, TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID });
      const call = { method: 'POST', body: JSON.stringify({ to: '+15551112222' }) };
      const unconfigured = await api('/api/calls', call);
      expect(unconfigured.status).toBe(503);
      expect(await unconfigured.json()).toEqual({
        statusCode: 503,
        error: 'unavailable',
        message: expect.stringContaining('TWILIO_PHONE_NUMBER') as unknown,
      });
      expect(rest.requests).toHaveLength(0);

      await bridge.close();
      await startWith({
        API_TOKEN: TEST_API_TOKEN,
        TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
        TWILIO_PHONE_NUMBER: '+15550009999',
      });
      rest.rejectAuth = true;
      const refused = await api('/api/calls', call);
      expect(refused.status).toBe(502);
      expect(await refused.json()).toEqual({
        statusCode: 502,
        error: 'carrier_failed',
        message: 'Twilio refused the call: Authenticate (Twilio error 20003)',
      });
      expect(rest.requests).toHaveLength(1);
    });

    it('lists a media call with transport "media" and transfers it at once through the API (<Dial>)', async () => {
      await startWith({ API_TOKEN: TEST_API_TOKEN, TRANSFER_NUMBER: '+15559990000' });
      const { call } = await callIn();
      const listed = (await (await api('/api/calls')).json()) as {
        calls: Array<{ callSid: string; transport: string }>;
      };
      expect(listed.calls).toEqual([
        expect.objectContaining({ callSid: call.callSid, transport: 'media' }),
      ]);
      const refused = await api(`/api/calls/${call.callSid}/transfer`, {
        method: 'POST',
        body: JSON.stringify({ to: '+15550000001' }),
      });
      expect(refused.status).toBe(400);
      const response = await api(`/api/calls/${call.callSid}/transfer`, {
        method: 'POST',
        body: JSON.stringify({ to: '+15559990000' }),
      });
      expect(response.status).toBe(200);
      const redirect = await rest.waitForRequest((r) => typeof r.form.Twiml === 'string');
      expect(redirect.path).toContain(`/Calls/${call.callSid}.json`);
      expect(redirect.form.Twiml).toContain('<Dial>+15559990000</Dial>');
      await call.waitForClose();
      expect(seenEvents.find((e) => e.event === 'call.ended')).toMatchObject({
        outcome: 'transferred',
        transport: 'media',
      });
    });

    it('refuses every transfer with 409 when no transfer number is configured', async () => {
      await startWith({ API_TOKEN: TEST_API_TOKEN });
      const { call } = await callIn();
      for (const to of ['+15559990000', 'tel:+15559990000', 'sip:desk@example.com']) {
        const response = await api(`/api/calls/${call.callSid}/transfer`, {
          method: 'POST',
          body: JSON.stringify({ to }),
        });
        expect(response.status).toBe(409);
        expect(await response.json()).toMatchObject({ message: 'no transfer number configured' });
      }
      expect(rest.requests).toHaveLength(0);
      expect((await api('/api/calls')).status).toBe(200);
      call.hangUp();
    });

    it('transfers to a number listed in its tel: form, asked for as +E.164', async () => {
      await startWith({
        API_TOKEN: TEST_API_TOKEN,
        TRANSFER_ALLOWED_NUMBERS: 'tel:+1-555-999-0000',
      });
      const { call } = await callIn();
      const response = await api(`/api/calls/${call.callSid}/transfer`, {
        method: 'POST',
        body: JSON.stringify({ to: '+15559990000' }),
      });
      expect(response.status).toBe(200);
      const redirect = await rest.waitForRequest((r) => typeof r.form.Twiml === 'string');
      expect(redirect.form.Twiml).toContain('<Dial>+15559990000</Dial>');
      await call.waitForClose();
    });

    it("streams a call's events as server-sent events", async () => {
      await startWith({ API_TOKEN: TEST_API_TOKEN });
      const { call, upstream } = await callIn();
      const response = await api(`/api/calls/${call.callSid}/events`);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      upstream.send({
        type: 'response.output_audio_transcript.done',
        response_id: 'r',
        item_id: 'i',
        output_index: 0,
        content_index: 0,
        transcript: 'Hello!',
      });
      await sleep(50);
      call.stop();
      const text = await response.text();
      expect(text).toMatch(/event: call.transcript\ndata: \{.*"text":"Hello!"/);
      expect(text).toMatch(/event: call.ended/);
    });
  });
});
