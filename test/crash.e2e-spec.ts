import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { ServiceProcess } from './support/service-process.js';
import { modelCallsTool, outputsOf } from './support/tool-calls.js';
import { waitUntil } from './support/wait.js';

// Bugs in a team's tools, in the built service run as operators run it: a floating rejected
// promise ends the call it belongs to and no other; an uncaught exception drains and exits 1.

const FIXTURE = 'test/fixtures/faulty-tools-service.mjs';
/** 20 ms of mu-law silence. */
const SILENCE = Buffer.alloc(160, 0xff);

describe('the built service with faulty tools', () => {
  let openai: FakeRealtimeServer;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    service = await ServiceProcess.start(
      {
        OPENAI_API_KEY: 'sk-test-crash',
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        OPENAI_REALTIME_URL: openai.url,
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
        SHUTDOWN_DRAIN_S: '1',
      },
      30_000,
      FIXTURE,
    );
  });

  afterEach(async () => {
    await service?.kill();
    await openai.stop();
  });

  async function callIn(): Promise<{ call: FakeTwilioCall; upstream: FakeRealtimeConnection }> {
    const call = await FakeTwilioCall.dial(service!.baseUrl);
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  /** Audio still flows both ways on this call: caller to model, model to caller. */
  async function expectAudioFlowing(call: FakeTwilioCall, upstream: FakeRealtimeConnection) {
    const appended = upstream.eventsOfType('input_audio_buffer.append').length;
    call.sendMedia(SILENCE);
    await waitUntil(
      () => upstream.eventsOfType('input_audio_buffer.append').length > appended,
      'caller audio to reach the model',
    );
    const heard = call.framesOf('media').length;
    upstream.send({ type: 'response.created', response: { id: 'r_b', status: 'in_progress' } });
    upstream.audioDelta('r_b', 'item_b', SILENCE);
    await waitUntil(() => call.framesOf('media').length > heard, 'model audio to reach the caller');
  }

  it('ends only the call whose tool left a rejected promise behind', async () => {
    const a = await callIn();
    const b = await callIn();

    modelCallsTool(a.upstream, 'r1', 'c1', 'forgetful_lookup', {}).done();
    expect(await a.call.waitForClose()).toBeDefined();
    await a.upstream.waitForClose();

    await expectAudioFlowing(b.call, b.upstream);
    const lines = service!.jsonLines();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: expect.stringMatching(
          new RegExp(
            `^unhandled promise rejection in call ${a.call.callSid}: Error: the CRM lookup failed`,
          ),
        ),
      }),
    );
    const ended = lines.filter((line) => String(line.msg).startsWith('call ended'));
    expect(ended).toEqual([
      expect.objectContaining({
        callSid: a.call.callSid,
        msg: expect.stringMatching(/^call ended after [\d.]+s: unhandled promise rejection/),
      }),
    ]);
    expect(service!.exited).toBe(false);
    expect(outputsOf(b.upstream)).toEqual([]);
  }, 40_000);

  it('drains and exits 1 after an uncaught exception in a tool', async () => {
    const a = await callIn();
    const b = await callIn();

    modelCallsTool(a.upstream, 'r1', 'c1', 'timer_bug', {}).done();
    const code = await service!.waitForExit(10_000);

    expect(code).toBe(1);
    const messages = service!.jsonLines().map((line) => String(line.msg));
    expect(messages).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^uncaught exception in call ${a.call.callSid}: Error: a bug in a timer of a tool[\\s\\S]*; draining active calls, then exiting`,
        ),
      ),
    );
    expect(messages).toContainEqual(expect.stringMatching(/draining 2 active calls/));
    await Promise.all([a.call.waitForClose(), b.call.waitForClose()]);
  }, 40_000);
});
