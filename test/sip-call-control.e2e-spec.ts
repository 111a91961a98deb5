import { Webhook } from 'standardwebhooks';
import { ConciergeModule } from '../examples/concierge.module.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { waitUntil } from './support/wait.js';

// CallContext.updateSession and CallContext.say on a SIP call: the concierge's tool runs over
// the sideband exactly as on a media call (test/concierge.e2e-spec.ts).

const SECRET = `whsec_${Buffer.from('the e2e key of the SIP call-control tests').toString('base64')}`;

function incomingCall(callId: string): Record<string, unknown> {
  return {
    object: 'event',
    id: `evt_${callId}`,
    type: 'realtime.call.incoming',
    created_at: Math.floor(Date.now() / 1000),
    data: {
      call_id: callId,
      sip_headers: [
        { name: 'From', value: '"Caller" <sip:+15550009999@pstn.twilio.com>;tag=abc' },
        { name: 'To', value: '<sip:+15551230002@proj_test.sip.api.openai.com;transport=tls>' },
      ],
    },
  };
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

const outputs = (sideband: FakeRealtimeConnection) =>
  sideband
    .eventsOfType('conversation.item.create')
    .map((event) => event.item as { type: string; output?: string })
    .filter((item) => item.type === 'function_call_output')
    .map((item) => JSON.parse(item.output!) as Record<string, unknown>);

describe('updateSession and say on a SIP call', () => {
  let calls: FakeOpenAICalls;
  let openai: FakeRealtimeServer;
  let bridge: RunningBridge;

  beforeEach(async () => {
    calls = new FakeOpenAICalls();
    openai = new FakeRealtimeServer();
    await Promise.all([calls.start(), openai.start()]);
    bridge = await startBridge(
      {
        OPENAI_WEBHOOK_SECRET: SECRET,
        OPENAI_API_BASE_URL: calls.url,
        OPENAI_REALTIME_URL: openai.url,
      },
      [ConciergeModule],
    );
  });

  afterEach(async () => {
    await bridge.close();
    await Promise.all([calls.stop(), openai.stop()]);
  });

  async function sipCallIn(callId: string): Promise<FakeRealtimeConnection> {
    const payload = JSON.stringify(incomingCall(callId));
    const at = new Date();
    const response = await fetch(`${bridge.baseUrl}/api/openai/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': `msg_${callId}`,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(SECRET).sign(`msg_${callId}`, at, payload),
      },
      body: payload,
    });
    expect(response.status).toBe(200);
    await waitUntil(() => openai.connections.length > 0, 'the sideband');
    return openai.connections[0];
  }

  it('sends one session.update with the change, says the sentence, then lets the model go on', async () => {
    const sideband = await sipCallIn('rtc_concierge1');

    modelCalls(sideband, 'r1', 'reserve_table', { time: '19:30', guests: 2 });
    await waitUntil(() => outputs(sideband).length === 1, 'the tool output');
    await sideband.waitFor('session.update');
    expect(sideband.eventsOfType('session.update').map((event) => event.session)).toEqual([
      {
        type: 'realtime',
        instructions: 'A table for 2 at 19:30 is reserved. Help with it; offer to cancel.',
        tools: [
          expect.objectContaining({ name: 'cancel_reservation' }),
          expect.objectContaining({ name: 'end_call' }),
        ],
        tool_choice: 'auto',
      },
    ]);
    await sideband.waitFor('response.create');
    // The sentence first; the model's answer to the output only after the sentence's response.
    const creates = () => sideband.eventsOfType('response.create');
    expect(creates()).toHaveLength(1);
    expect(creates()[0].response).toEqual({
      instructions: 'Say exactly this, and nothing else: "Done: a table for 2 at 19:30 tonight."',
    });
    sideband.send({
      type: 'response.done',
      response: { id: sideband.responseIds[0], status: 'completed', output: [] },
    });
    await waitUntil(() => creates().length === 2, 'the model to be asked to go on');
    expect(creates()[1].response).toBeUndefined();

    // A tool no longer offered gets an error output, without its handler.
    modelCalls(sideband, 'r2', 'reserve_table', { time: '20:00', guests: 2 });
    await waitUntil(() => outputs(sideband).length === 2, 'the refusal');
    expect(outputs(sideband)[1]).toEqual({
      error: 'tool "reserve_table" is not available on this call',
    });
    expect(sideband.eventsOfType('session.update')).toHaveLength(1);
  });
});
