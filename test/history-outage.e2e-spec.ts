import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { TestPostgres } from './support/postgres-server.js';
import { ServiceProcess } from './support/service-process.js';
import { sleep, waitUntil } from './support/wait.js';

// The history's PostgreSQL away on the built service, where nothing else says so: while no call
// ends (only the open calls' heartbeat reaches the database), and at a shutdown with a call up
// the whole drain (the history's flush comes after it).

/** The heartbeat's period (OPEN_CALL_HEARTBEAT_MS) and a margin: one beat lands within it. */
const HEARTBEAT_WAIT_MS = 25_000;

describe('the history database away (PostgreSQL, the built service)', () => {
  let postgres: TestPostgres;
  let openai: FakeRealtimeServer;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    postgres = await TestPostgres.start();
  }, 90_000);

  afterAll(async () => {
    await postgres?.destroy();
  });

  beforeEach(async () => {
    await postgres.start().catch(() => undefined); // a test that failed may have left it stopped
    openai = new FakeRealtimeServer();
    await openai.start();
  });

  afterEach(async () => {
    await service?.kill();
    await openai.stop();
  });

  async function startService(env: Record<string, string> = {}): Promise<ServiceProcess> {
    service = await ServiceProcess.start({
      OPENAI_API_KEY: 'sk-test-history',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      OPENAI_REALTIME_URL: openai.url,
      HISTORY: 'on',
      DATABASE_URL: postgres.url,
      ...env,
    });
    return service;
  }

  async function dial(): Promise<FakeTwilioCall> {
    const call = await FakeTwilioCall.dial(service!.baseUrl);
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return call;
  }

  const health = async (path: string) => {
    const res = await fetch(`${service!.baseUrl}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('says so while no call ends: one warn line, the metric, /health down (ready stays 200), and when it is back', async () => {
    await startService();
    const calls = [await dial(), await dial(), await dial()];
    // Their open rows are written (OPEN_ROWS_BATCH_MS): from now on only heartbeats touch it.
    await sleep(2000);
    expect((await health('/health')).body.details.history).toEqual({ status: 'up' });

    await postgres.stop();
    await waitUntil(
      () => /history: the database refused a write/.test(service!.logs),
      'the outage to be logged',
      HEARTBEAT_WAIT_MS,
    );
    const warned = service!
      .jsonLines()
      .filter((line) => /history: the database refused/.test(String(line.msg)));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40 });
    expect(String(warned[0].msg)).toMatch(/the open calls heartbeat: .+\)/);
    expect(service!.logs).not.toContain('not-a-real-password');

    const live = await health('/health');
    expect(live.status).toBe(200);
    expect(live.body.error.history).toEqual({ status: 'down', since: expect.any(String) });
    expect(live.body.details.history.status).toBe('down');
    // Calls work without the history: the load balancer keeps sending them.
    expect((await health('/health/ready')).status).toBe(200);
    const metrics = await (await fetch(`${service!.baseUrl}/metrics`)).text();
    expect(Number(/^bridge_history_write_errors_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(
      0,
    );

    await postgres.start();
    await waitUntil(
      () => /history: the database answers again after \d+ s/.test(service!.logs),
      'the end of the outage to be logged',
      HEARTBEAT_WAIT_MS,
    );
    expect((await health('/health')).body.details.history).toEqual({ status: 'up' });
    for (const call of calls) call.stop();
  }, 90_000);

  it('at SIGTERM with a call up the whole drain, waits for the flush and logs the lost records with their CallSids', async () => {
    await startService({ SHUTDOWN_DRAIN_S: '2' });
    const staying = await dial();
    const ending = await dial();
    await sleep(1500);
    await postgres.stop();
    ending.stop();
    await ending.waitForClose();
    await waitUntil(
      () => /history: the database refused a write/.test(service!.logs),
      "the ended call's record to wait for the database",
      HEARTBEAT_WAIT_MS,
    );

    const signalledAt = Date.now();
    await service!.kill('SIGTERM');
    expect(await service!.waitForExit(60_000)).toBe(0);
    const took = Date.now() - signalledAt;
    const lost = service!
      .jsonLines()
      .find((line) => /records not written before shutdown/.test(String(line.msg)));
    expect(lost).toMatchObject({ level: 50 });
    expect(String(lost!.msg)).toMatch(/^history: 2 records not written before shutdown .*: calls /);
    expect(String(lost!.msg)).toContain(staying.callSid);
    expect(String(lost!.msg)).toContain(ending.callSid);
    // The drain (2 s), then the flush's 5 s (HISTORY_SHUTDOWN_FLUSH_MS): no forced exit before.
    expect(took).toBeGreaterThanOrEqual(6500);
  }, 90_000);
});
