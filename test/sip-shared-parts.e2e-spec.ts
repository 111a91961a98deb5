import { Injectable, Module, type Type } from '@nestjs/common';
import {
  CALL_SETTINGS_RESOLVER,
  CALL_SETTINGS_TIMEOUT_MS,
  type CallDescription,
  type CallSettingsChoice,
  type CallSettingsResolver,
} from 'twilio-realtime-bridge';
import { StoreHoursModule } from '../examples/store-hours.module.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { CallEventLogModule, seenCallEvents as seen } from './support/call-event-log.js';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { incomingCall, postSignedWebhook, sidebandOf } from './support/sip-webhooks.js';
import { modelCallsTool, outputsOf } from './support/tool-calls.js';
import { waitUntil } from './support/wait.js';
import { TEST_API_TOKEN } from './support/secrets.js';

/**
 * SIP calls on the media path's per-call parts: the settings resolver chooses what the accept
 * carries and which tools run, the conversation memory keeps the caller's order, and key presses
 * are caller turns, as on a media call.
 */
const SECRET = `whsec_${Buffer.from('the e2e key of the SIP shared-parts tests').toString('base64')}`;
const SHOP_NUMBER = '+15551230002';
const VIP = '+15550009999';

/** A team's CRM: the VIP gets other instructions, one tool, and semantic VAD. */
@Injectable()
class CrmSettings implements CallSettingsResolver {
  static readonly asked: CallDescription[] = [];

  resolve(call: CallDescription): Partial<CallSettingsChoice> | undefined {
    CrmSettings.asked.push(call);
    if (call.from !== VIP) return undefined;
    return {
      instructions: 'Greet the VIP by name.',
      tools: ['get_store_hours'],
      turnDetection: { type: 'semantic_vad', eagerness: 'low' },
      transcription: { model: 'gpt-4o-transcribe', language: 'de' },
    };
  }
}

@Module({
  imports: [CallEventLogModule, StoreHoursModule],
  providers: [CrmSettings, { provide: CALL_SETTINGS_RESOLVER, useExisting: CrmSettings }],
})
class CrmModule {}

/** A CRM that never answers. */
@Module({
  imports: [CallEventLogModule],
  providers: [
    {
      provide: CALL_SETTINGS_RESOLVER,
      useValue: {
        resolve: () => new Promise<never>(() => undefined),
      } satisfies CallSettingsResolver,
    },
  ],
})
class HangingCrmModule {}

describe('SIP calls on the shared per-call parts', () => {
  let calls: FakeOpenAICalls;
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge | undefined;

  async function startWith(module: Type, env: Record<string, string> = {}) {
    bridge = await startBridge(
      {
        OPENAI_WEBHOOK_SECRET: SECRET,
        OPENAI_API_BASE_URL: calls.url,
        OPENAI_REALTIME_URL: openai.url,
        API_TOKEN: TEST_API_TOKEN,
        ...env,
      },
      [module],
    );
  }

  async function callIn(callId: string, from = '+15550001111') {
    const response = await postSignedWebhook(
      bridge!.baseUrl,
      SECRET,
      incomingCall(callId, { from, to: SHOP_NUMBER }),
    );
    expect(response.status).toBe(200);
    const accept = await calls.waitFor('accept', callId);
    return { accept, sideband: await sidebandOf(openai, callId) };
  }

  const ended = () => seen.find((e) => e.event === 'call.ended') as Record<string, any> | undefined;

  beforeEach(async () => {
    seen.length = 0;
    CrmSettings.asked.length = 0;
    calls = new FakeOpenAICalls();
    openai = new FakeRealtimeServer();
    await Promise.all([calls.start(), openai.start()]);
  });

  afterEach(async () => {
    await bridge?.close();
    bridge = undefined;
    await Promise.all([calls.stop(), openai.stop()]);
  });

  it('accepts with what the resolver chose for the SIP caller, and answers a call of a tool it did not offer with an error', async () => {
    await startWith(CrmModule);
    const { accept, sideband } = await callIn('rtc_vip', VIP);

    expect(CrmSettings.asked).toEqual([
      expect.objectContaining({
        callSid: 'rtc_vip',
        from: VIP,
        to: SHOP_NUMBER,
        direction: 'inbound',
      }),
    ]);
    const session = accept.body as Record<string, any>;
    expect(session.instructions).toBe('Greet the VIP by name.');
    expect(session.tools.map((tool: { name: string }) => tool.name)).toEqual(['get_store_hours']);
    expect(session.audio.input.turn_detection).toEqual({ type: 'semantic_vad', eagerness: 'low' });
    expect(session.audio.input.transcription).toEqual({
      model: 'gpt-4o-transcribe',
      language: 'de',
    });

    // The model calls a tool the call was not offered (a stale or hallucinated name).
    modelCallsTool(sideband, 'resp_end', 'call_end', 'end_call', { reason: 'bye' }).done();
    await waitUntil(() => outputsOf(sideband).length === 1, 'the end_call output');
    const output = JSON.parse((outputsOf(sideband)[0].item as { output: string }).output);
    expect(output).toEqual({ error: 'tool "end_call" is not available on this call' });
    // The offered one runs, with this call's context.
    modelCallsTool(sideband, 'resp_hours', 'call_hours', 'get_store_hours', {
      day: 'sunday',
    }).done();
    await waitUntil(() => outputsOf(sideband).length === 2, 'the get_store_hours output');
    expect(JSON.parse((outputsOf(sideband)[1].item as { output: string }).output)).toMatchObject({
      hours: 'closed',
    });
    // end_call never ran: no goodbye was asked for, nothing was hung up.
    expect(JSON.stringify(sideband.eventsOfType('response.create'))).not.toMatch(/goodbye/i);
    expect(calls.of('hangup')).toHaveLength(0);

    // Another caller gets the defaults: every tool.
    const other = await callIn('rtc_other');
    const names = (other.accept.body as { tools: Array<{ name: string }> }).tools.map(
      (t) => t.name,
    );
    expect(names).toEqual(expect.arrayContaining(['get_store_hours', 'end_call']));
  });

  it('accepts with the defaults when the resolver does not answer in time', async () => {
    await startWith(HangingCrmModule);
    const started = Date.now();
    const { accept } = await callIn('rtc_slowcrm');
    const waited = Date.now() - started;

    expect(waited).toBeGreaterThanOrEqual(CALL_SETTINGS_TIMEOUT_MS - 100);
    // OpenAI's webhook deadline is far longer than the resolver's bound plus the accept.
    expect(waited).toBeLessThan(CALL_SETTINGS_TIMEOUT_MS + 2000);
    expect((accept.body as { instructions: string }).instructions).toBeTruthy();
    expect(bridge!.logs.matching(/settings resolver failed/).length).toBe(1);
  });

  it('keeps a caller turn whose transcript arrives late in conversation order, in the events and the record', async () => {
    await startWith(CrmModule);
    const { sideband } = await callIn('rtc_order');
    // The caller spoke, the answer began and played, and only then the transcription finished.
    sideband.send({
      type: 'input_audio_buffer.committed',
      item_id: 'item_u1',
      previous_item_id: null,
    });
    sideband.send({
      type: 'conversation.item.added',
      previous_item_id: 'item_u1',
      item: { id: 'item_a1', type: 'message', role: 'assistant', content: [] },
    });
    sideband.send({ type: 'output_audio_buffer.started', response_id: 'resp_a' });
    sideband.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_a',
      item_id: 'item_a1',
      output_index: 0,
      content_index: 0,
      transcript: 'We open at nine.',
    });
    sideband.send({ type: 'output_audio_buffer.stopped', response_id: 'resp_a' });
    sideband.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      content_index: 0,
      transcript: 'When do you open?',
    });
    // A second caller turn the transcription could not make out.
    sideband.send({
      type: 'input_audio_buffer.committed',
      item_id: 'item_u2',
      previous_item_id: 'item_a1',
    });
    sideband.send({
      type: 'conversation.item.input_audio_transcription.failed',
      item_id: 'item_u2',
      content_index: 0,
      error: { type: 'transcription_error', code: 'audio_unintelligible', message: 'noise' },
    });
    await waitUntil(
      () => seen.filter((e) => e.event === 'call.transcript').length === 3,
      'three transcript events',
    );
    const events = await fetch(`${bridge!.baseUrl}/api/calls/rtc_order/events`, {
      headers: { authorization: `Bearer ${TEST_API_TOKEN}` },
    });
    sideband.socket.close(1000, 'call ended');
    const text = await events.text();

    const turns = [...text.matchAll(/event: call.transcript\ndata: (\{.*\})/g)].map(
      (m) => (JSON.parse(m[1]) as { text: string }).text,
    );
    // Events come as each turn becomes final; the record keeps the conversation's order.
    expect(turns).toEqual(['We open at nine.', 'When do you open?', '[inaudible]']);
    await waitUntil(() => ended() !== undefined, 'the call record');
    expect(
      ended()!.transcript.map((t: { role: string; text: string }) => [t.role, t.text]),
    ).toEqual([
      ['caller', 'When do you open?'],
      ['assistant', 'We open at nine.'],
      ['caller', '[inaudible]'],
    ]);
    expect(ended()!.transcript[2]).toMatchObject({ inaudible: true });
  });

  it("records the sideband's key presses as a keypad caller turn and tells the model", async () => {
    await startWith(CrmModule);
    const { sideband } = await callIn('rtc_keys');
    for (const key of ['4', '2', '#']) {
      sideband.send({ type: 'input_audio_buffer.dtmf_event_received', event: key, received_at: 1 });
    }
    // Not a key: refused at the edge, it reaches neither the record nor the model.
    sideband.send({
      type: 'input_audio_buffer.dtmf_event_received',
      event: 'ignore previous',
      received_at: 1,
    });

    const told = await sideband.waitFor(
      'conversation.item.create',
      (e) => (e.item as { type: string }).type === 'message',
    );
    expect(JSON.stringify(told.item)).toContain('The caller pressed 4 2 #');
    await sideband.waitFor('response.create');
    expect(
      seen.filter((e) => e.event === 'call.dtmf').map((e) => (e as { digit: string }).digit),
    ).toEqual(['4', '2', '#']);
    sideband.socket.close(1000, 'call ended');
    await waitUntil(() => ended() !== undefined, 'the call record');
    expect(ended()!.transcript).toEqual([
      expect.objectContaining({
        role: 'caller',
        keypad: true,
        text: expect.stringContaining('4 2 #'),
      }),
    ]);
  });

  it('drops key presses beyond 10 a second, as on a media stream', async () => {
    await startWith(CrmModule, { DTMF_TO_MODEL: 'false' });
    const { sideband } = await callIn('rtc_keyflood');
    for (let i = 0; i < 25; i++) {
      sideband.send({ type: 'input_audio_buffer.dtmf_event_received', event: '1', received_at: 1 });
    }
    sideband.socket.close(1000, 'call ended');
    await waitUntil(() => ended() !== undefined, 'the call record');
    const keys = seen.filter((e) => e.event === 'call.dtmf').length;
    expect(keys).toBeGreaterThanOrEqual(10);
    expect(keys).toBeLessThan(13);
    expect(ended()!.frames.dropped).toBe(25 - keys);
  });

  it('cancels the playing answer on a key press (DTMF_INTERRUPTS) and records the server cut as by keypad', async () => {
    await startWith(CrmModule, { DTMF_TO_MODEL: 'false' });
    const { sideband } = await callIn('rtc_keycut');
    sideband.send({ type: 'response.created', response: { id: 'resp_long', output: [] } });
    sideband.send({ type: 'output_audio_buffer.started', response_id: 'resp_long' });
    sideband.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_long',
      item_id: 'item_long',
      transcript: 'Our opening hours are nine to five on weekdays and ten to four on Saturdays.',
    });
    sideband.send({ type: 'input_audio_buffer.dtmf_event_received', event: '0', received_at: 1 });

    await sideband.waitFor('output_audio_buffer.clear');
    expect(sideband.eventsOfType('response.cancel')).toEqual([
      expect.objectContaining({ response_id: 'resp_long' }),
    ]);
    // The server stops playback and cuts the item where the caller stopped hearing it.
    sideband.send({ type: 'output_audio_buffer.cleared', response_id: 'resp_long' });
    sideband.send({
      type: 'conversation.item.truncated',
      item_id: 'item_long',
      content_index: 0,
      audio_end_ms: 1500,
    });
    await waitUntil(() => seen.some((e) => e.event === 'call.interrupted'), 'the interruption');
    expect(seen.find((e) => e.event === 'call.interrupted')).toMatchObject({
      itemId: 'item_long',
      audioEndMs: 1500,
      by: 'keypad',
    });
    sideband.socket.close(1000, 'call ended');
    await waitUntil(() => ended() !== undefined, 'the call record');
    expect(ended()).toMatchObject({ interruptions: 1 });
    expect(ended()!.transcript).toEqual([
      expect.objectContaining({
        role: 'assistant',
        interrupted: true,
        text: 'Our opening hours are',
      }),
    ]);
  });
});
