import { ConciergeModule } from '../examples/concierge.module.js';
import { startBridge, type RunningBridge } from './support/bridge.js';
import { reservedSessionChange } from './support/concierge.js';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { incomingCall, postSignedWebhook, sidebandOf } from './support/sip-webhooks.js';
import { modelCallsTool } from './support/tool-calls.js';
import { waitUntil } from './support/wait.js';

// CallContext.updateSession and CallContext.say on a SIP call: the concierge's tool runs over
// the sideband exactly as on a media call (test/concierge.e2e-spec.ts).

const SECRET = `whsec_${Buffer.from('the e2e key of the SIP call-control tests').toString('base64')}`;

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
    const call = incomingCall(callId, { from: '+15550009999', to: '+15551230002' });
    const response = await postSignedWebhook(bridge.baseUrl, SECRET, call);
    expect(response.status).toBe(200);
    return sidebandOf(openai, callId);
  }

  /** The model calls a tool in one response, as the server reports it. */
  const modelCalls = (sideband: FakeRealtimeConnection, id: string, name: string, args: object) =>
    modelCallsTool(sideband, id, `call_${id}`, name, args).done();

  it('sends one session.update with the change, says the sentence, then lets the model go on', async () => {
    const sideband = await sipCallIn('rtc_concierge1');

    modelCalls(sideband, 'r1', 'reserve_table', { time: '19:30', guests: 2 });
    await waitUntil(() => outputs(sideband).length === 1, 'the tool output');
    await sideband.waitFor('session.update');
    expect(sideband.eventsOfType('session.update').map((event) => event.session)).toEqual([
      reservedSessionChange(),
    ]);
    await sideband.waitFor('response.create');
    // The sentence first; the model's answer to the output only after the sentence's response.
    const creates = () => sideband.eventsOfType('response.create');
    expect(creates()).toHaveLength(1);
    // (Its metadata ties the server's response.created to this request: the shared scheduler's.)
    expect(creates()[0].response).toMatchObject({
      instructions: 'Say exactly this, and nothing else: "Done: a table for 2 at 19:30 tonight."',
    });
    sideband.send({
      type: 'response.done',
      response: { id: sideband.responseIds[0], status: 'completed', output: [] },
    });
    await waitUntil(() => creates().length === 2, 'the model to be asked to go on');
    expect(creates()[1].response).not.toHaveProperty('instructions');

    // A tool no longer offered gets an error output, without its handler.
    modelCalls(sideband, 'r2', 'reserve_table', { time: '20:00', guests: 2 });
    await waitUntil(() => outputs(sideband).length === 2, 'the refusal');
    expect(outputs(sideband)[1]).toEqual({
      error: 'tool "reserve_table" is not available on this call',
    });
    expect(sideband.eventsOfType('session.update')).toHaveLength(1);
  });
});
