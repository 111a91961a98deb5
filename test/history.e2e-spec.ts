import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { mulawTone } from './support/audio.js';
import { EventsReceiver } from './support/events-receiver.js';
import { FakeRealtimeServer, type FakeRealtimeConnection } from './support/fake-realtime-server.js';
import { FakeTwilioCall, TEST_AUTH_TOKEN } from './support/fake-twilio.js';
import { TestPostgres } from './support/postgres-server.js';
import { freePort } from './support/redis-server.js';
import { ServiceProcess } from './support/service-process.js';
import { sleep, waitUntil } from './support/wait.js';

// Issue 27's history on the built service, against the embedded database and a real
// PostgreSQL of the test's own: a call with a barge-in and a tool call, then the API.

const API_TOKEN = 'history-test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${API_TOKEN}` };
const WORDS = 'Our branches are in Lyon, Paris, Lille, Nantes, Nice and Rennes.';
/** The embedded database's first start runs initdb: slow on a busy machine. */
const START_TIMEOUT_MS = 90_000;

type Backend = 'embedded' | 'postgres';

describe.each<Backend>(['embedded', 'postgres'])('the call history (%s database)', (backend) => {
  let openai: FakeRealtimeServer;
  let service: ServiceProcess | undefined;
  let dataDir: string;
  let postgres: TestPostgres | undefined;

  const storeEnv = (): Record<string, string> =>
    backend === 'postgres' ? { DATABASE_URL: postgres!.url } : { DATA_DIR: dataDir };

  async function startService(
    env: Record<string, string> = {},
    { waitReady = true } = {},
  ): Promise<ServiceProcess> {
    service = await ServiceProcess.start(
      {
        OPENAI_API_KEY: 'sk-test-history',
        TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
        OPENAI_REALTIME_URL: openai.url,
        AUDIO_INPUT_FORMAT: 'g711_ulaw',
        API_TOKEN,
        HISTORY: 'on',
        SHUTDOWN_DRAIN_S: '0',
        ...storeEnv(),
        ...env,
      },
      START_TIMEOUT_MS,
    );
    // The embedded database opens after the service listens: ready (200) once it has.
    const ready = service;
    if (waitReady && env.HISTORY !== 'off') {
      await waitForReady(ready.baseUrl);
    }
    return service;
  }

  async function waitForReady(baseUrl: string): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while ((await fetch(`${baseUrl}/health/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the service never became ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${service!.baseUrl}${path}`, { ...init, headers: { ...AUTH, ...init.headers } });

  async function written(callSid: string): Promise<Record<string, any>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await api(`/api/history/${callSid}`);
      if (res.status === 200) return (await res.json()) as Record<string, any>;
      if (Date.now() > deadline)
        throw new Error(`no record of ${callSid} (last status ${res.status})`);
      await sleep(200);
    }
  }

  async function dial(): Promise<{ call: FakeTwilioCall; upstream: FakeRealtimeConnection }> {
    const call = await FakeTwilioCall.dial(service!.baseUrl, { playInRealTime: true });
    const upstream = await openai.connection(openai.connections.length);
    await upstream.waitFor('session.update');
    return { call, upstream };
  }

  /** A caller question, an answer the caller cuts after ~1 s, then the model's tool call. */
  async function callWithBargeInAndTool(): Promise<FakeTwilioCall> {
    const { call, upstream } = await dial();
    upstream.send({
      type: 'input_audio_buffer.committed',
      item_id: 'item_u1',
      previous_item_id: null,
    });
    upstream.send({
      type: 'conversation.item.added',
      previous_item_id: 'item_u1',
      item: {
        id: 'item_a1',
        type: 'message',
        role: 'assistant',
        status: 'in_progress',
        content: [],
      },
    });
    upstream.send({ type: 'response.created', response: { id: 'resp_1', metadata: null } });
    upstream.audioDelta('resp_1', 'item_a1', mulawTone(300, 4000));
    upstream.send({
      type: 'response.output_audio_transcript.done',
      response_id: 'resp_1',
      item_id: 'item_a1',
      content_index: 0,
      transcript: WORDS,
    });
    upstream.send({
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      content_index: 0,
      transcript: 'Where are your BRANCHES?',
    });
    await waitUntil(() => call.playback!.playing, 'playback');
    await sleep(call.playback!.runStartedAt + 1000 - performance.now());
    upstream.send({ type: 'input_audio_buffer.speech_started', audio_start_ms: 0, item_id: 'u2' });
    await upstream.waitFor('conversation.item.truncate');
    upstream.send({
      type: 'response.done',
      response: {
        id: 'resp_1',
        status: 'cancelled',
        usage: {
          total_tokens: 1500,
          input_tokens: 1000,
          output_tokens: 500,
          input_token_details: { audio_tokens: 800, text_tokens: 200, cached_tokens: 0 },
          output_token_details: { audio_tokens: 400, text_tokens: 100 },
        },
      },
    });
    upstream.send({
      type: 'response.function_call_arguments.done',
      response_id: 'resp_2',
      item_id: 'item_f1',
      output_index: 0,
      call_id: 'call_1',
      name: 'end_call',
      arguments: '{"reason":"done"}',
    });
    upstream.send({
      type: 'conversation.item.added',
      previous_item_id: 'item_a1',
      item: {
        id: 'item_f1',
        type: 'function_call',
        call_id: 'call_1',
        name: 'end_call',
        arguments: '{"reason":"done"}',
      },
    });
    await upstream.waitFor(
      'conversation.item.create',
      (e) => (e.item as { type: string }).type === 'function_call_output',
    );
    call.stop();
    await call.waitForClose();
    return call;
  }

  beforeAll(async () => {
    if (backend === 'postgres') postgres = await TestPostgres.start();
  }, 60_000);

  afterAll(async () => {
    await postgres?.destroy();
  });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bridge-history-'));
    openai = new FakeRealtimeServer();
    await openai.start();
  });

  afterEach(async () => {
    await service?.kill();
    service = undefined;
    await openai.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps what the caller heard and the tool calls, across a restart, until erased', async () => {
    await startService();
    // Readiness was polled every 100 ms while the database opened: said once, not per probe.
    if (backend === 'embedded') {
      const said = () => service!.jsonLines().map((line) => String(line.msg));
      // The log line may reach the pipe after the 200 that followed it.
      await waitUntil(() => said().includes('ready'), 'the "ready" log line');
      expect(said().filter((msg) => msg.startsWith('not ready'))).toEqual([
        'not ready: history (opening the history database)',
      ]);
      expect(said().filter((msg) => msg === 'ready')).toHaveLength(1);
    }
    expect(service!.logs).not.toContain('Health Check has failed');
    const call = await callWithBargeInAndTool();

    const record = await written(call.callSid);
    expect(record).toMatchObject({
      callSid: call.callSid,
      transport: 'media',
      direction: 'inbound',
      from: '+15550001111',
      to: '+15550002222',
      interruptions: 1,
      turnsOmitted: 0,
      model: 'gpt-realtime',
      recording: null,
      usage: { inputTokens: 1000, outputAudioTokens: 400 },
    });
    // 800 audio in at $32, 200 text in at $4, 400 audio out at $64, 100 text out at $16 (per 1M).
    expect(record.costUsd).toBeCloseTo(0.0256 + 0.0008 + 0.0256 + 0.0016, 6);
    expect(Date.parse(record.endedAt)).toBeGreaterThanOrEqual(Date.parse(record.startedAt));
    const [caller, assistant, tool] = record.transcript as Array<Record<string, any>>;
    expect(caller).toMatchObject({ role: 'caller', text: 'Where are your BRANCHES?' });
    expect(assistant).toMatchObject({ role: 'assistant', interrupted: true });
    // Cut where the caller stopped hearing: about a quarter of the words, never all of them.
    expect(WORDS.startsWith(assistant.text as string)).toBe(true);
    expect((assistant.text as string).length).toBeLessThan(WORDS.length / 2);
    expect(tool).toMatchObject({ role: 'tool' });
    for (const turn of record.transcript as Array<{ atMs: number }>) {
      expect(turn.atMs).toBeGreaterThanOrEqual(0);
    }
    expect(record.tools).toEqual([
      expect.objectContaining({
        name: 'end_call',
        arguments: { reason: 'done' },
        ms: expect.any(Number),
      }),
    ]);

    await service!.kill('SIGTERM');
    await service!.waitForExit();
    await startService();
    expect(await written(call.callSid)).toEqual(record);

    const erased = await api(`/api/history/${call.callSid}`, { method: 'DELETE' });
    expect(erased.status).toBe(204);
    expect((await api(`/api/history/${call.callSid}`)).status).toBe(404);
    expect((await api(`/api/history/${call.callSid}`, { method: 'DELETE' })).status).toBe(404);
  }, 180_000);

  it('lists newest first with filters, search on both databases, pages and CSV', async () => {
    await startService();
    const first = await callWithBargeInAndTool();
    await written(first.callSid);
    const second = await FakeTwilioCall.dial(service!.baseUrl, { from: '+15559990000' });
    await openai.connection(1);
    second.stop();
    await second.waitForClose();
    await written(second.callSid);

    const list = async (query: string) => {
      const res = await api(`/api/history?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as { calls: Array<{ callSid: string }>; next: string | null };
    };
    const sids = async (query: string) => (await list(query)).calls.map((c) => c.callSid);

    expect(await sids('')).toEqual([second.callSid, first.callSid]);
    expect(await sids('number=%2B15559990000')).toEqual([second.callSid]);
    expect(await sids('number=%2B15550002222')).toEqual([second.callSid, first.callSid]);
    expect(await sids('q=branches')).toEqual([first.callSid]);
    expect(await sids('q=OUR%20BRANCHES')).toEqual([first.callSid]);
    // The words the caller never heard (cut by the barge-in) are not in the history.
    expect(await sids('q=rennes')).toEqual([]);
    expect(await sids('q=100%25')).toEqual([]);
    expect(await sids('outcome=completed')).toEqual([second.callSid, first.callSid]);
    expect(await sids('outcome=failed')).toEqual([]);
    expect(await sids(`from=${new Date(Date.now() + 60_000).toISOString()}`)).toEqual([]);
    expect(await sids('to=2000-01-01')).toEqual([]);

    const page1 = await list('limit=1');
    expect(page1.calls.map((c) => c.callSid)).toEqual([second.callSid]);
    expect(page1.next).toEqual(expect.any(String));
    const page2 = await list(`limit=1&cursor=${page1.next}`);
    expect(page2.calls.map((c) => c.callSid)).toEqual([first.callSid]);
    expect(page2.next).toBeNull();

    const csv = await api('/api/history?format=csv');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toMatch(/^callSid,transport,direction,from,to,/);
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual([
      second.callSid,
      first.callSid,
    ]);

    expect((await fetch(`${service!.baseUrl}/api/history`)).status).toBe(401);
    expect((await api('/api/history?limit=201')).status).toBe(400);
    expect((await api('/api/history?cursor=not-ours')).status).toBe(400);
    expect((await api('/api/history?from=yesterday')).status).toBe(400);
    expect((await api('/api/history/CA123')).status).toBe(400);
    expect((await api('/api/history/CA00000000000000000000000000000099')).status).toBe(404);
  }, 180_000);

  if (backend === 'embedded') {
    it('records a call as lost when its process was killed under it, at the next start', async () => {
      await startService();
      const { call, upstream } = await dial();
      upstream.callerTurnEnded(upstream.speechStarted(), 'Where are your BRANCHES?', 1200);
      // The call's open row is written within OPEN_ROWS_BATCH_MS (1 s) of its start, and its
      // turns within OPEN_CALL_TURNS_FLUSH_MS (5 s) of being said; SIGKILL then leaves them.
      await sleep(6500);
      await service!.kill('SIGKILL');
      await call.waitForClose();

      // The next process delivers the call's `call.ended`, outcome lost, to the events webhook.
      const webhook = await EventsReceiver.start();
      try {
        await startService(webhook.env);
        const ended = await webhook.event('call.ended');
        expect(ended).toMatchObject({
          callSid: call.callSid,
          streamSid: call.streamSid,
          transport: 'media',
          outcome: 'lost',
          from: '+15550001111',
          turns: { caller: 1, assistant: 0 },
          transcript: [{ role: 'caller', text: 'Where are your BRANCHES?' }],
        });
        expect(webhook.received.every((delivery) => delivery.signedRight)).toBe(true);
      } finally {
        await webhook.close();
      }
      const record = await written(call.callSid);
      expect(record).toMatchObject({
        callSid: call.callSid,
        transport: 'media',
        direction: 'inbound',
        from: '+15550001111',
        to: '+15550002222',
        outcome: 'lost',
        costUsd: null,
        transcript: [{ role: 'caller', text: 'Where are your BRANCHES?' }],
      });
      // Ended when its process was last seen: within a heartbeat of the kill.
      const lasted = Date.parse(record.endedAt) - Date.parse(record.startedAt);
      expect(lasted).toBeGreaterThanOrEqual(0);
      expect(lasted).toBeLessThan(30_000);
      expect(service!.logs).toMatch(
        new RegExp(`history: call ${call.callSid} .* was lost with its process`),
      );
      const metrics = await (await fetch(`${service!.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^bridge_history_lost_calls_total 1$/m);
    }, 180_000);
  }

  it('answers 404 on every history route with HISTORY=off', async () => {
    await startService({ HISTORY: 'off' });
    expect((await api('/api/history')).status).toBe(404);
    expect((await api('/api/history/CA00000000000000000000000000000099')).status).toBe(404);
  }, 60_000);

  if (backend === 'postgres') {
    it('keeps records while the database is down and writes them when it is back', async () => {
      await startService();
      await postgres!.stop();
      const call = await FakeTwilioCall.dial(service!.baseUrl);
      await openai.connection(0);
      call.stop();
      await call.waitForClose();
      await waitUntil(
        () => /history: the database refused a write/.test(service!.logs),
        'the failed write to be logged',
      );
      expect((await api(`/api/history/${call.callSid}`)).status).toBe(503);
      const metrics = await (await fetch(`${service!.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/^bridge_history_pending_records 1$/m);

      await postgres!.start();
      const record = await written(call.callSid);
      expect(record.callSid).toBe(call.callSid);
      expect(service!.logs).toMatch(/history: the database answers again/);
    }, 120_000);

    it('erases a call whose record waits for the database, leaving no open row to come back as lost', async () => {
      await startService();
      const { call, upstream } = await dial();
      upstream.callerTurnEnded(upstream.speechStarted(), 'my account password is hunter2', 1200);
      // Its open row is written within 1 s, and its turn within 5 s (OPEN_CALL_TURNS_FLUSH_MS).
      await sleep(6500);
      await postgres!.stop();
      call.stop();
      await call.waitForClose();
      await waitUntil(
        () => /history: the database refused a write/.test(service!.logs),
        'the failed write to be logged',
      );

      const during = await api(`/api/history/${call.callSid}`, { method: 'DELETE' });
      expect(during.status).toBe(503);
      expect(await during.text()).toContain(
        'guaranteed only once a DELETE answers 204: send it again',
      );
      await postgres!.start();
      await waitUntil(
        () => service!.logs.includes(`call ${call.callSid} erased from the history`),
        'the queued erasure to run',
        20_000,
      );
      expect((await api(`/api/history/${call.callSid}`)).status).toBe(404);
      // Nothing a later sweep would record as a lost call (its turns included).
      const db = new pg.Client({ connectionString: postgres!.url });
      await db.connect();
      try {
        const rows = await db.query('SELECT call_sid FROM open_calls WHERE call_sid = $1', [
          call.callSid,
        ]);
        expect(rows.rowCount).toBe(0);
      } finally {
        await db.end();
      }
      expect((await api(`/api/history/${call.callSid}`, { method: 'DELETE' })).status).toBe(404);
    }, 120_000);

    it('erases the recording of a call whose record was lost with its process, the database away', async () => {
      const recordings = join(dataDir, 'recordings');
      const env = { RECORDING: 'on', RECORDINGS_DIR: recordings };
      await startService(env);
      await postgres!.stop();
      const { call } = await dial();
      await sleep(500);
      call.stop();
      await call.waitForClose();
      const file = join(recordings, `${call.callSid}.wav`);
      await waitUntil(
        () => /history: the database refused a write/.test(service!.logs),
        'the failed write to be logged',
      );
      // Stopped before the database is back: the record waiting in memory is lost.
      await service!.kill('SIGTERM');
      await service!.waitForExit();
      await postgres!.start();
      await startService(env);
      expect((await api(`/api/history/${call.callSid}`)).status).toBe(404);
      expect(existsSync(file)).toBe(true);

      const erased = await api(`/api/history/${call.callSid}`, { method: 'DELETE' });
      expect(erased.status).toBe(204);
      expect(existsSync(file)).toBe(false);
      // The log line may reach the pipe after the answer.
      await waitUntil(
        () => service!.logs.includes(`call ${call.callSid} erased (it had no record`),
        'the erasure to be logged',
      );
      const again = await api(`/api/history/${call.callSid}`, { method: 'DELETE' });
      expect(again.status).toBe(404);
      expect(await again.text()).toContain('no record or recording');
    }, 120_000);

    it('refuses to erase a live call (409), and erases it once it has ended', async () => {
      const recordings = join(dataDir, 'recordings');
      await startService({ RECORDING: 'on', RECORDINGS_DIR: recordings });
      const { call } = await dial();
      const file = join(recordings, `${call.callSid}.wav`);
      await waitUntil(() => existsSync(file), 'the recording to begin');

      const live = await api(`/api/history/${call.callSid}`, { method: 'DELETE' });
      expect(live.status).toBe(409);
      expect(await live.text()).toContain('the call is still live: erase it once it has ended');
      // Nothing touched: the call's recording goes on and is kept when it ends.
      call.stop();
      await call.waitForClose();
      await written(call.callSid);
      expect(existsSync(file)).toBe(true);
      expect((await api(`/api/history/${call.callSid}`, { method: 'DELETE' })).status).toBe(204);
      expect(existsSync(file)).toBe(false);
    }, 120_000);

    it('refuses to start when DATABASE_URL does not answer: one line, exit 1', async () => {
      const closed = await freePort();
      const started = await startService(
        { DATABASE_URL: `postgres://bridge:s3cret-pw@127.0.0.1:${closed}/history` },
        { waitReady: false },
      );
      expect(await started.waitForExit()).toBe(1);
      const lines = started.logs
        .trim()
        .split('\n')
        .filter((line) => !line.includes('"Security"'));
      expect(lines.at(-1)).toMatch(
        new RegExp(
          `^Cannot reach the history database at DATABASE_URL \\(127\\.0\\.0\\.1:${closed}/history\\)`,
        ),
      );
      expect(started.logs).not.toContain('s3cret-pw');
    }, 60_000);
  }
});
