import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAICalls } from './support/fake-openai-calls.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { TestRedis } from './support/redis-server.js';
import { ServiceProcess } from './support/service-process.js';
import { incomingCall, postSignedWebhook, sidebandOf } from './support/sip-webhooks.js';
import { sleep, waitUntil } from './support/wait.js';

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

  const sipEnv = (): Record<string, string> => ({
    OPENAI_API_KEY: 'sk-sip-process-test',
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    OPENAI_WEBHOOK_SECRET: SECRET,
    OPENAI_API_BASE_URL: calls.url,
    OPENAI_REALTIME_URL: openai.url,
  });

  it('on SIGTERM, ends each live SIP call at OpenAI before the process exits', async () => {
    service = await ServiceProcess.start({ ...sipEnv(), SHUTDOWN_DRAIN_S: '1' });
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

  it('with one instance, hangs up the SIP calls of a SIGKILLed process when it starts again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bridge-sip-lost-'));
    try {
      const env = { ...sipEnv(), HISTORY: 'on', DATA_DIR: dataDir };
      service = await ServiceProcess.start(env);
      // The embedded history database opens after the service listens: ready once it has.
      while ((await fetch(`${service.baseUrl}/health/ready`)).status !== 200) await sleep(100);
      const id = 'rtc_killed1';
      const to = { from: '+15550001111', to: '+15550002222' };
      expect((await postSignedWebhook(service.baseUrl, SECRET, incomingCall(id, to))).status).toBe(
        200,
      );
      await sidebandOf(openai, id);
      await sleep(2500); // the call's open row is written (OPEN_ROWS_BATCH_MS, 1 s)
      await service.kill('SIGKILL');
      expect(calls.of('hangup', id)).toEqual([]);

      service = await ServiceProcess.start(env);
      await waitUntil(() => calls.of('hangup', id).length > 0, 'the hang-up', 90_000);
      expect(calls.of('hangup', id)).toEqual([expect.objectContaining({ answered: true })]);
      await waitUntil(
        () => service!.logs.includes('hung up, so the caller is not left'),
        'the log line',
      );
      expect(service.logs).toContain(`SIP call ${id} was lost with an earlier process`);
    } finally {
      await service?.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);

  describe('in cluster mode, a SIP call whose instance could not hang it up', () => {
    let redis: TestRedis;
    let survivor: ServiceProcess;
    const cluster = (instance: string) => ({
      ...sipEnv(),
      INSTANCE_ID: instance,
      REDIS_URL: redis.url,
      CLUSTER_SECRET: 'sip-cluster-e2e-secret-4b8d2f6a0c3e5a7b9d1f',
      SHUTDOWN_DRAIN_S: '1',
    });

    beforeEach(async () => {
      redis = await TestRedis.start();
      survivor = await ServiceProcess.start(cluster('B'));
    });
    afterEach(async () => {
      await survivor.kill();
      await redis.destroy();
    });

    /** A SIP call live on a second instance, A. */
    async function callOnA(id: string): Promise<ServiceProcess> {
      const a = await ServiceProcess.start(cluster('A'));
      const to = { from: '+15550001111', to: '+15550002222' };
      expect((await postSignedWebhook(a.baseUrl, SECRET, incomingCall(id, to))).status).toBe(200);
      await sidebandOf(openai, id);
      await sleep(4000); // a heartbeat or more
      expect(calls.of('hangup', id)).toEqual([]);
      return a;
    }

    it('is hung up by another instance when it was SIGKILLed', async () => {
      const id = 'rtc_orphan1';
      service = await callOnA(id);
      service.child.kill('SIGKILL');
      const killed = Date.now();
      // The lease (10 s), then the line seen unheld for SIP_LINE_ORPHAN_GRACE_MS (30 s).
      await waitUntil(() => calls.of('hangup', id).length > 0, 'the survivor hangs up', 60_000);
      expect(Date.now() - killed).toBeGreaterThanOrEqual(38_000);
      await sleep(4000);
      expect(calls.of('hangup', id)).toEqual([expect.objectContaining({ answered: true })]);
      expect(survivor.logs).toContain(`SIP call ${id} lost its instance A`);
    }, 90_000);

    it('is hung up again by another instance when its hang-up at shutdown failed', async () => {
      const id = 'rtc_orphan2';
      service = await callOnA(id);
      calls.statusFor.hangup = [503, 503, 503]; // every attempt A makes
      service.child.kill('SIGTERM');
      expect(await service.waitForExit(15_000)).toBe(0);
      expect(calls.of('hangup', id)).toHaveLength(3);

      await waitUntil(() => calls.of('hangup', id).length > 3, 'the survivor hangs up', 60_000);
      await sleep(4000);
      expect(calls.of('hangup', id)).toHaveLength(4);
      expect(survivor.logs).toContain(`SIP call ${id} lost its instance A`);
      expect(survivor.logs).toContain('hung up, so the caller is not left');
    }, 90_000);
  });
});
