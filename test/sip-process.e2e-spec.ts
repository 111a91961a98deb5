import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { ServiceProcess } from './support/service-process.js';
import { incomingCall, postSignedWebhook, sidebandOf } from './support/sip-webhooks.js';

// SIP calls in the built service (`node dist/main.js`): what only a real process shows, such as
// what happens between the drain and the process's exit.

const SECRET = `whsec_${Buffer.from('the e2e key of the SIP process tests').toString('base64')}`;

describe('SIP calls in the built service', () => {
  let calls: FakeOpenAICalls;
  let openai: FakeRealtimeServer;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    calls = new FakeOpenAICalls();
    await calls.start();
    openai = new FakeRealtimeServer();
    await openai.start();
  });

  afterEach(async () => {
    await service?.kill();
    service = undefined;
    await openai.stop();
    await calls.stop();
  });

  it('on SIGTERM, ends each live SIP call at OpenAI before the process exits', async () => {
    service = await ServiceProcess.start({
      OPENAI_API_KEY: 'sk-sip-process-test',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      OPENAI_WEBHOOK_SECRET: SECRET,
      OPENAI_API_BASE_URL: calls.url,
      OPENAI_REALTIME_URL: openai.url,
      SHUTDOWN_DRAIN_S: '1',
    });
    const ids = ['rtc_term1', 'rtc_term2', 'rtc_term3'];
    for (const id of ids) {
      const to = { from: '+15550001111', to: '+15550002222' };
      expect((await postSignedWebhook(service.baseUrl, SECRET, incomingCall(id, to))).status).toBe(
        200,
      );
      await sidebandOf(openai, id);
    }
    // OpenAI answers a hang-up after a while, as a real API across the internet does.
    calls.delayMsFor.hangup = 300;

    service.child.kill('SIGTERM');
    expect(await service.waitForExit(10_000)).toBe(0);

    for (const id of ids) {
      expect(calls.of('hangup', id)).toEqual([expect.objectContaining({ answered: true })]);
    }
  }, 30_000);
});
