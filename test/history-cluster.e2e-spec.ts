import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { frames20ms, mulawTone } from './support/audio.js';
import { FakeRealtimeServer } from './support/fake-realtime-server.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { TestPostgres } from './support/postgres-server.js';
import { TestRedis } from './support/redis-server.js';
import { S3Server } from './support/s3-server.js';
import { ServiceProcess } from './support/service-process.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { sleep, waitUntil } from './support/wait.js';

// Erasure in a cluster, on the built service: two instances (A, B) on one Redis, one
// PostgreSQL and one bucket. A call on A ends; its erasure is asked of B at once, while A still
// holds the call's record (its database away, so the record waits in A's queue) and its
// recording (the reorder window, then the upload). What B answered must hold on A too.

const API_TOKEN = 'history-cluster-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${API_TOKEN}` };
const CLUSTER_SECRET = 'history-cluster-secret-5d1e9a7c3b0f2e4a6c8d';
/** Past the recording's reorder window and its upload: what A would keep is kept by then. */
const SETTLE_MS = 12_000;

describe('erasure in a cluster (the built service)', () => {
  let redis: TestRedis;
  let postgres: TestPostgres;
  let s3: S3Server;
  let openai: FakeRealtimeServer;
  /** A's way to the database, to take it away from A alone. */
  let proxy: TcpProxy;
  const services: ServiceProcess[] = [];
  let dir: string;

  beforeAll(async () => {
    [redis, postgres, s3] = await Promise.all([
      TestRedis.start(),
      TestPostgres.start(),
      S3Server.start(),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([redis?.destroy(), postgres?.destroy(), s3?.stop()]);
  });

  beforeEach(async () => {
    openai = new FakeRealtimeServer();
    await openai.start();
    proxy = await TcpProxy.start(postgres.port);
    dir = await mkdtemp(join(tmpdir(), 'history-cluster-'));
  });

  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.kill()));
    await proxy.close();
    await openai.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(instance: string, databaseUrl: string): Promise<ServiceProcess> {
    const service = await ServiceProcess.start({
      INSTANCE_ID: instance,
      REDIS_URL: redis.url,
      CLUSTER_SECRET,
      OPENAI_API_KEY: 'sk-test-history-cluster',
      TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
      OPENAI_REALTIME_URL: openai.url,
      AUDIO_INPUT_FORMAT: 'g711_ulaw',
      API_TOKEN,
      HISTORY: 'on',
      DATABASE_URL: databaseUrl,
      RECORDING: 'on',
      RECORDINGS_DIR: join(dir, instance),
      ...s3.env(`calls-${process.pid}/`),
      SHUTDOWN_DRAIN_S: '0',
      LOG_LEVEL: 'info',
    });
    if (service.exited) throw new Error(`${instance} did not start:\n${service.logs}`);
    services.push(service);
    return service;
  }

  const api = (service: ServiceProcess, path: string, init: RequestInit = {}) =>
    fetch(`${service.baseUrl}${path}`, { ...init, headers: { ...AUTH, ...init.headers } });

  async function status(service: ServiceProcess, path: string): Promise<number> {
    const response = await api(service, path);
    await response.arrayBuffer();
    return response.status;
  }

  async function rowsOf(callSid: string): Promise<number> {
    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    try {
      const calls = await db.query('SELECT 1 FROM calls WHERE call_sid = $1', [callSid]);
      const open = await db.query('SELECT 1 FROM open_calls WHERE call_sid = $1', [callSid]);
      return (calls.rowCount ?? 0) + (open.rowCount ?? 0);
    } finally {
      await db.end();
    }
  }

  it('an erasure answered by B right after the call ended on A: neither its record nor its recording comes back', async () => {
    const proxied = new URL(postgres.url);
    proxied.port = String(proxy.port);
    const a = await start('a', proxied.toString());
    const b = await start('b', postgres.url);

    const call = await FakeTwilioCall.dial(a.baseUrl);
    const upstream = await openai.connection(0);
    await upstream.waitFor('session.update');
    for (const frame of frames20ms(mulawTone(440, 400))) call.sendMedia(frame);
    // The call's open row is written within OPEN_ROWS_BATCH_MS (1 s).
    await sleep(1500);
    proxy.cut();
    // The database has been away a moment when the call ends. (A pooled connection cut just as
    // it is checked out dies outside any query, and pg throws that as an uncaught exception that
    // stops the process: a defect of its own, not this test's.)
    await sleep(500);
    call.stop();
    await call.waitForClose();
    await waitUntil(
      () => /history: the database refused a write/.test(a.logs),
      "A's record to wait for its database",
      15_000,
    );

    // At once through B: as soon as the call is no longer live anywhere (A's lease released).
    let erased: Response;
    for (;;) {
      erased = await api(b, `/api/history/${call.callSid}`, { method: 'DELETE' });
      if (erased.status !== 409) break;
      await sleep(20);
    }
    // 404 too: B holds nothing of the call, and A's record and recording are still on their way.
    expect([204, 404]).toContain(erased.status);

    proxy.restore();
    await waitUntil(
      () => /history: the database answers again/.test(a.logs),
      "A's database to answer again",
      40_000,
    );
    await sleep(SETTLE_MS);
    const left = {
      recordOnA: await status(a, `/api/history/${call.callSid}`),
      recordOnB: await status(b, `/api/history/${call.callSid}`),
      recordingOnA: await status(a, `/api/history/${call.callSid}/recording`),
      recordingOnB: await status(b, `/api/history/${call.callSid}/recording`),
      // Nor an open row that a sweep would record as a lost call.
      rows: await rowsOf(call.callSid),
    };
    expect(left).toEqual({
      recordOnA: 404,
      recordOnB: 404,
      recordingOnA: 404,
      recordingOnB: 404,
      rows: 0,
    });
    expect(a.logs).toContain(
      `call ${call.callSid} erased from the history (the erasure was asked elsewhere)`,
    );
  }, 120_000);
});
