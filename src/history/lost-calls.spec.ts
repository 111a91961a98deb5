import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { sql } from 'kysely';
import { TestPostgres } from '../../test/support/postgres-server.js';
import { Secret } from '../config/secret.js';
import { openHistoryDatabase, type OpenHistoryDatabase } from './database/history-database.js';
import { lostCallEndedEvent, type HistoryCallDetail, type OpenCall } from './history-record.js';
import { HistoryRepository } from './history.repository.js';
import { LostCallSweeper, LostCallsRepository, MAX_LOST_CALLS_PER_SWEEP } from './lost-calls.js';

const call = (callSid: string, owner = 'bridge-a/0a0a0a0a'): OpenCall => ({
  callSid,
  owner,
  streamSid: `MZ${callSid.slice(2)}`,
  transport: 'media',
  direction: 'inbound',
  from: '+15550001111',
  to: '+15550002222',
  profile: 'sales',
  startedAt: '2026-12-06T10:00:00.000Z',
});

/** A call's own record, as its process writes it when the call ends. */
const ended = (callSid: string): HistoryCallDetail => ({
  ...call(callSid),
  endedAt: '2026-12-06T10:01:00.000Z',
  reason: 'caller hung up',
  outcome: 'completed',
  durationS: 60,
  interruptions: 1,
  reconnects: 0,
  turns: { caller: 1, assistant: 1 },
  turnsOmitted: 0,
  usage: {
    inputTokens: 10,
    outputTokens: 20,
    totalTokens: 30,
    inputAudioTokens: 10,
    inputTextTokens: 0,
    inputCachedTokens: 0,
    outputAudioTokens: 20,
    outputTextTokens: 0,
  },
  latency: {},
  frames: { in: 3000, out: 2000, dropped: 0 },
  model: 'gpt-realtime',
  costUsd: 0.001,
  recording: null,
  transcript: [{ role: 'caller', text: 'hello', atMs: 100 }],
  tools: [],
});

const A = 'bridge-a/0a0a0a0a';
const B = 'bridge-b/0b0b0b0b';
const C = 'bridge-c/0c0c0c0c';

// The open-call queries on both databases the history runs on: PGlite (in this process, from
// source) and a real PostgreSQL.
describe.each(['embedded', 'postgres'] as const)('lost calls (%s database)', (kind) => {
  let dataDir: string;
  let postgres: TestPostgres | undefined;
  let opened: OpenHistoryDatabase;
  let records: HistoryRepository;
  let lost: LostCallsRepository;

  const openRows = async () =>
    (await opened.db.selectFrom('open_calls').select('call_sid').execute()).map((r) => r.call_sid);
  /** As if the owner had last said it was alive `seconds` ago. */
  const unseenFor = (seconds: number) =>
    opened.db
      .updateTable('open_calls')
      .set({ seen_at: sql<Date>`now() - make_interval(secs => ${seconds})` })
      .execute();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bridge-lost-'));
    if (kind === 'postgres') postgres = await TestPostgres.start();
    opened = await openHistoryDatabase({
      dataDir,
      databaseUrl: postgres ? new Secret(postgres.url) : undefined,
    });
    records = new HistoryRepository(opened.db);
    lost = new LostCallsRepository(opened.db);
  }, 120_000);

  afterAll(async () => {
    await opened?.db.destroy();
    await postgres?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await opened.db.deleteFrom('open_calls').execute();
    await opened.db.deleteFrom('calls').execute();
  });

  it('records a call left open by another process as lost, once', async () => {
    await records.open([call('CA01')]);
    await unseenFor(90);

    const found = await lost.recordLost(B, 10, 60_000);

    expect(found.map((c) => c.callSid)).toEqual(['CA01']);
    // The stream sid comes back with the call, for its `call.ended` (lostCallEndedEvent).
    expect(found[0]).toMatchObject({ streamSid: 'MZ01', owner: A, predecessor: false });
    const record = await records.get('CA01');
    expect(record).toMatchObject({
      callSid: 'CA01',
      from: '+15550001111',
      to: '+15550002222',
      profile: 'sales',
      startedAt: '2026-12-06T10:00:00.000Z',
      endedAt: found[0].seenAt,
      outcome: 'lost',
      costUsd: null,
      transcript: [],
      turnsOmitted: 0,
    });
    expect(record!.reason).toContain('bridge-a');
    expect(await openRows()).toEqual([]);
    expect(await lost.recordLost(B, 10, 60_000)).toEqual([]);
  });

  it('reads a record an older version wrote, without turnsOmitted, as none omitted', async () => {
    await records.save(ended('CA08'), false);
    const figures = sql<string>`figures - 'turnsOmitted'`;
    await opened.db.updateTable('calls').set({ figures }).execute();
    expect(await records.get('CA08')).toMatchObject({ callSid: 'CA08', turnsOmitted: 0 });
    await records.save({ ...ended('CA07'), turnsOmitted: 12 }, false);
    expect(await records.get('CA07')).toMatchObject({ turnsOmitted: 12 });
  });

  it('takes a row an older version wrote, without a stream sid', async () => {
    await records.open([{ ...call('CA09'), streamSid: null }]);
    await unseenFor(90);
    const found = await lost.recordLost(B, 10, 60_000);
    expect(found).toMatchObject([{ callSid: 'CA09', streamSid: null }]);
    expect(lostCallEndedEvent(found[0], new Date().toISOString()).streamSid).toBe('');
  });

  it('leaves calls seen lately, its own calls and ended calls alone', async () => {
    await records.open([call('CA02')]);
    expect(await lost.recordLost(B, 10, 60_000)).toEqual([]);

    await unseenFor(90);
    expect(await lost.recordLost(A, 10, 0)).toEqual([]);
    await lost.touch(A);
    expect(await lost.recordLost(B, 10, 60_000)).toEqual([]);

    await records.save(ended('CA02'), true);
    await unseenFor(90);
    expect(await openRows()).toEqual([]);
    expect(await lost.recordLost(B, 10, 0)).toEqual([]);
    expect((await records.get('CA02'))!.outcome).toBe('completed');
  });

  it('keeps the turns written while the call ran, for its lost record', async () => {
    await records.open([call('CA40'), call('CA41')]);
    const said = (text: string, atMs: number, role: 'caller' | 'assistant' = 'caller') => ({
      role,
      text,
      atMs,
    });
    const taken = await lost.appendTurns(A, [
      { callSid: 'CA40', turns: [said('Is Lyon open?', 1500)] },
      { callSid: 'CA41', turns: [said('Hello', 900)] },
      // No open row yet (its batch is not written): nothing taken, the turns wait.
      { callSid: 'CA42', turns: [said('Hi', 300)] },
    ]);
    expect(taken.sort()).toEqual(['CA40', 'CA41']);
    expect(
      await lost.appendTurns(A, [
        { callSid: 'CA40', turns: [said('Until six.', 3000, 'assistant')] },
      ]),
    ).toEqual(['CA40']);
    // Only the owner's rows.
    expect(await lost.appendTurns(B, [{ callSid: 'CA40', turns: [said('x', 1)] }])).toEqual([]);

    await unseenFor(90);
    const found = await lost.recordLost(B, 10, 60_000);
    expect(found.find((c) => c.callSid === 'CA40')!.transcript).toEqual([
      said('Is Lyon open?', 1500),
      said('Until six.', 3000, 'assistant'),
    ]);
    expect(await records.get('CA40')).toMatchObject({
      outcome: 'lost',
      turns: { caller: 1, assistant: 1 },
      transcript: [said('Is Lyon open?', 1500), said('Until six.', 3000, 'assistant')],
    });
    // The words are searchable like any record's.
    const page = await records.list({ limit: 10, q: 'lyon', format: 'json' });
    expect(page.calls.map((c) => c.callSid)).toEqual(['CA40']);
  });

  it('stores words PostgreSQL refuses as they are (NUL, an unpaired surrogate) as U+FFFD', async () => {
    const odd = 'a\u0000b\uD800c';
    await records.open([{ ...call('CA50'), from: odd }]);
    expect(
      await lost.appendTurns(A, [
        { callSid: 'CA50', turns: [{ role: 'caller', text: odd, atMs: 1 }] },
      ]),
    ).toEqual(['CA50']);
    await records.save(
      {
        ...ended('CA51'),
        from: odd,
        reason: odd,
        transcript: [{ role: 'assistant', text: odd, atMs: 5 }],
        tools: [{ name: 'lookup', arguments: { [odd]: odd }, output: odd, ok: true, ms: 1 }],
      },
      false,
    );
    const stored = 'a\uFFFDb\uFFFDc';
    expect(await records.get('CA51')).toMatchObject({
      from: stored,
      reason: stored,
      transcript: [{ text: stored }],
      tools: [{ arguments: { [stored]: stored }, output: stored }],
    });
    await unseenFor(90);
    const [found] = await lost.recordLost(B, 10, 60_000);
    expect(found).toMatchObject({ from: stored, transcript: [{ text: stored }] });
  });

  it("lets a call's own record replace its lost one, never the other way", async () => {
    await records.open([call('CA03')]);
    await unseenFor(90);
    await lost.recordLost(B, 10, 60_000);
    expect((await records.get('CA03'))!.outcome).toBe('lost');

    // The owner was alive but could not reach the database: its record comes later, and wins.
    await records.save(ended('CA03'), true);
    const record = await records.get('CA03');
    expect(record).toMatchObject({ outcome: 'completed', costUsd: 0.001 });
    expect(record!.transcript).toEqual([{ role: 'caller', text: 'hello', atMs: 100 }]);

    // An open row left behind next to a record (a write retried after its answer was lost).
    await records.open([call('CA03')]);
    await unseenFor(90);
    expect((await lost.recordLost(B, 10, 0)).map((c) => c.callSid)).toEqual(['CA03']);
    expect((await records.get('CA03'))!.outcome).toBe('completed');
  });

  it("takes a predecessor's calls after two heartbeats unseen, without the stale window", async () => {
    await records.open([
      call('CA30', 'bridge-b/00000000'),
      call('CA31', 'bridge-bb/00000000'),
      call('CA32'),
    ]);

    // Touched a moment ago: a live process under the same name by mistake, never taken.
    expect(await lost.recordLost(B, 10)).toEqual([]);

    await unseenFor(45);
    const found = await lost.recordLost(B, 10);
    expect(found).toEqual([expect.objectContaining({ callSid: 'CA30', predecessor: true })]);
    expect((await openRows()).sort()).toEqual(['CA31', 'CA32']);

    await unseenFor(90);
    const unseen = await lost.recordLost(B, 10, 60_000);
    expect(unseen.map((c) => [c.callSid, c.predecessor]).sort()).toEqual([
      ['CA31', false],
      ['CA32', false],
    ]);
  });

  it('takes at most the limit per sweep, the longest unseen first', async () => {
    await records.open(['CA10', 'CA11', 'CA12'].map((sid) => call(sid)));
    await unseenFor(90);
    await opened.db
      .updateTable('open_calls')
      .set({ seen_at: sql<Date>`now() - interval '5 minutes'` })
      .where('call_sid', '=', 'CA12')
      .execute();

    expect((await lost.recordLost(B, 2, 60_000)).map((c) => c.callSid)).toEqual(
      expect.arrayContaining(['CA12']),
    );
    expect(await openRows()).toHaveLength(1);
    expect(await lost.recordLost(B, 2, 60_000)).toHaveLength(1);
  });

  if (kind === 'postgres') {
    it('records each lost call once when two instances sweep at once', async () => {
      const sids = Array.from({ length: 40 }, (_, i) => `CA${String(100 + i)}`);
      await records.open(sids.map((sid) => call(sid)));
      await unseenFor(90);
      const other = await openHistoryDatabase({
        dataDir,
        databaseUrl: new Secret(postgres!.url),
      });
      try {
        // Two instances (B, C), each sweeping twice at once, on their own connections.
        const sweepers = [lost, new LostCallsRepository(other.db)];
        const rounds = await Promise.all(
          [0, 1, 2, 3].map((i) => sweepers[i % 2].recordLost(i % 2 ? C : B, 15, 60_000)),
        );
        const taken = rounds.flat().map((c) => c.callSid);
        expect(new Set(taken).size).toBe(taken.length);
        const rest = await lost.recordLost(B, MAX_LOST_CALLS_PER_SWEEP, 60_000);
        expect([...taken, ...rest.map((c) => c.callSid)].sort()).toEqual(sids);
      } finally {
        await other.db.destroy();
      }
    });
  }
});

describe('LostCallSweeper', () => {
  const log = { warn: jest.fn(), log: jest.fn() };
  const reachability = { failed: jest.fn(), answered: jest.fn() };

  /** Open calls in memory: touch refreshes, recordLost takes the stale ones of others. */
  class FakeLostCalls {
    up = true;
    readonly sweeps: (number | undefined)[] = [];
    touch = jest.fn(() => (this.up ? Promise.resolve() : Promise.reject(new Error('down'))));
    recordLost = jest.fn((_owner: string, _limit: number, staleMs?: number) => {
      this.sweeps.push(staleMs);
      return Promise.resolve([
        {
          ...call('CA20'),
          seenAt: '2026-12-06T10:00:30.000Z',
          transcript: [],
          predecessor: false,
        },
      ]);
    });
  }

  beforeEach(() => jest.clearAllMocks());

  it("on the embedded database, records every other process's open call at once", async () => {
    const repository = new FakeLostCalls();
    const onLost = jest.fn();
    const sweeper = new LostCallSweeper(repository as unknown as LostCallsRepository, B, {
      exclusive: true,
      log,
      reachability,
      onLost,
      staleMs: 60_000,
    });

    expect(await sweeper.beat()).toEqual([
      expect.objectContaining({ callSid: 'CA20', predecessor: true }),
    ]);
    expect(repository.touch).toHaveBeenCalledWith(B);
    expect(repository.sweeps).toEqual([0]);
    expect(onLost).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringMatching(/^history: call CA20 .* lost with its process bridge-a\/0a0a0a0a/),
    );
  });

  it("on a shared database, takes others' unseen calls once it has answered for the window", async () => {
    const repository = new FakeLostCalls();
    const sweeper = new LostCallSweeper(repository as unknown as LostCallsRepository, B, {
      exclusive: false,
      log,
      reachability,
      staleMs: 80,
    });

    // Predecessors' calls only, until the database has answered for the window.
    await sweeper.beat();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sweeper.beat();
    expect(repository.sweeps).toEqual([undefined, 80]);

    // An outage: the owners' heartbeats could not land either, so the window starts again.
    repository.up = false;
    expect(await sweeper.beat()).toEqual([]);
    expect(reachability.failed).toHaveBeenCalledWith(
      'the open calls heartbeat',
      expect.any(Error),
      expect.any(String),
    );
    repository.up = true;
    await sweeper.beat();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await sweeper.beat();
    expect(repository.sweeps).toEqual([undefined, 80, undefined, 80]);
  });

  it('runs one heartbeat at a time', async () => {
    const repository = new FakeLostCalls();
    const sweeper = new LostCallSweeper(repository as unknown as LostCallsRepository, B, {
      exclusive: true,
      log,
      reachability,
    });
    await Promise.all([sweeper.beat(), sweeper.beat(), sweeper.beat()]);
    expect(repository.touch).toHaveBeenCalledTimes(1);
  });
});
