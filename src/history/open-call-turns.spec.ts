import { jest } from '@jest/globals';
import type { EventTurn } from './history-record.js';
import { MAX_OPEN_ROWS_PER_WRITE } from './history-writer.js';
import {
  MAX_OPEN_CALL_TURNS,
  MAX_OPEN_CALL_TURNS_BYTES_PER_WRITE,
  OpenCallTurns,
  type OpenCallTurnsBatch,
} from './open-call-turns.js';
import { DatabaseReachability } from './database-reachability.js';

const STARTED = '2026-12-06T10:00:00.000Z';
const turn = (text: string, atMs = 1000): EventTurn => ({
  role: 'caller',
  text,
  at: new Date(Date.parse(STARTED) + atMs).toISOString(),
});

describe('OpenCallTurns', () => {
  const log = { log: jest.fn(), warn: jest.fn() };
  const metrics = { writeFailed: jest.fn() };
  const reachability = () => new DatabaseReachability(metrics, log);
  let batches: OpenCallTurnsBatch[][];
  /** The calls whose open row exists (the others take nothing). */
  let rows: Set<string>;
  let fails: boolean | string;
  let turns: OpenCallTurns;

  const write = (batch: OpenCallTurnsBatch[]) => {
    batches.push(structuredClone(batch));
    if (fails === 'for its data')
      return Promise.reject(Object.assign(new Error('invalid input syntax'), { code: '22P02' }));
    if (fails) return Promise.reject(new Error('database down'));
    return Promise.resolve(batch.map((b) => b.callSid).filter((sid) => rows.has(sid)));
  };

  beforeEach(() => {
    jest.clearAllMocks();
    batches = [];
    rows = new Set(['CA1', 'CA2']);
    fails = false;
    turns = new OpenCallTurns(write, log, reachability(), 60_000);
  });

  afterEach(() => turns.stop());

  it("writes every call's turns in one statement, as the history keeps them", async () => {
    turns.started('CA1', STARTED);
    turns.started('CA2', STARTED);
    turns.said('CA1', turn('Is Lyon open?', 1500));
    turns.said('CA2', { ...turn('It is', 2000), role: 'assistant', interrupted: true });
    turns.said('CA1', turn('Thanks', 4000));
    await turns.flush();

    expect(batches).toEqual([
      [
        {
          callSid: 'CA1',
          turns: [
            { role: 'caller', text: 'Is Lyon open?', atMs: 1500 },
            { role: 'caller', text: 'Thanks', atMs: 4000 },
          ],
        },
        {
          callSid: 'CA2',
          turns: [{ role: 'assistant', text: 'It is', atMs: 2000, interrupted: true }],
        },
      ],
    ]);
    expect(turns.waiting).toBe(0);
    await turns.flush();
    expect(batches).toHaveLength(1);
  });

  it('keeps the turns a row did not take, or a failed write, for the next flush', async () => {
    turns.started('CA1', STARTED);
    turns.started('CA3', STARTED);
    turns.said('CA1', turn('one'));
    turns.said('CA3', turn('no row yet'));
    await turns.flush();
    expect(turns.waiting).toBe(1);

    rows.add('CA3');
    fails = true;
    turns.said('CA1', turn('two'));
    await turns.flush();
    expect(turns.waiting).toBe(2);
    // The outage is the database's, logged once whichever writer meets it first.
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /^history: the database refused a write \(the turns of open calls: database down\)/,
      ),
    );
    expect(metrics.writeFailed).toHaveBeenCalledTimes(1);

    fails = false;
    await turns.flush();
    expect(batches.at(-1)!.map((b) => [b.callSid, b.turns.map((t) => t.text)])).toEqual([
      ['CA1', ['two']],
      ['CA3', ['no row yet']],
    ]);
    expect(turns.waiting).toBe(0);
    expect(log.log).toHaveBeenCalledWith(
      expect.stringMatching(/^history: the database answers again after \d+ s$/),
    );
  });

  it('drops turns the database refuses for their data, rather than retry them for ever', async () => {
    turns.started('CA1', STARTED);
    turns.said('CA1', turn('refused'));
    fails = 'for its data';
    await turns.flush();
    expect(turns.waiting).toBe(0);
    expect(log.warn).toHaveBeenCalledWith(expect.stringMatching(/refused turns .*: dropped$/));
  });

  it('leaves a turn said while a write runs for the next flush', async () => {
    turns.started('CA1', STARTED);
    turns.said('CA1', turn('first'));
    const flushing = turns.flush();
    turns.said('CA1', turn('second'));
    await flushing;
    expect(turns.waiting).toBe(1);
    await turns.flush();
    expect(batches.map((batch) => batch[0].turns.map((t) => t.text))).toEqual([
      ['first'],
      ['second'],
    ]);
  });

  it('ignores calls it was not told started, and forgets those that ended', async () => {
    turns.said('CA9', turn('unknown'));
    turns.started('CA1', STARTED);
    turns.said('CA1', turn('said'));
    turns.ended('CA1');
    turns.said('CA1', turn('after'));
    await turns.flush();
    expect(batches).toEqual([]);
  });

  it('keeps at most MAX_OPEN_CALL_TURNS per call, and splits a statement past its rows', async () => {
    for (let i = 0; i < MAX_OPEN_ROWS_PER_WRITE + 1; i++) {
      const sid = `CA${i}`;
      rows.add(sid);
      turns.started(sid, STARTED);
      turns.said(sid, turn('hello'));
    }
    for (let i = 0; i < MAX_OPEN_CALL_TURNS + 10; i++) turns.said('CA0', turn(`t${i}`));
    await turns.flush();
    expect(batches.map((batch) => batch.length)).toEqual([MAX_OPEN_ROWS_PER_WRITE, 1]);
    expect(batches[0][0].turns).toHaveLength(MAX_OPEN_CALL_TURNS);
  });

  it("cuts a backlog into statements of about MAX_OPEN_CALL_TURNS_BYTES_PER_WRITE, never a call's turns", async () => {
    const long = 'x'.repeat(10_000);
    for (const sid of ['CA1', 'CA2', 'CA3']) {
      rows.add(sid);
      turns.started(sid, STARTED);
      // Each call ~0.4 of the bound: two fit in a statement, the third goes in the next.
      for (let i = 0; i < (MAX_OPEN_CALL_TURNS_BYTES_PER_WRITE * 0.4) / long.length; i++)
        turns.said(sid, turn(long));
    }
    await turns.flush();
    expect(batches.map((batch) => batch.map((b) => b.callSid))).toEqual([['CA1', 'CA2'], ['CA3']]);
    expect(turns.waiting).toBe(0);
  });

  it('flushes by itself, OPEN_CALL_TURNS_FLUSH_MS after a turn, until stopped', async () => {
    const timed = new OpenCallTurns(write, log, reachability(), 20);
    timed.started('CA1', STARTED);
    timed.said('CA1', turn('soon'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(batches).toHaveLength(1);
    timed.stop();
    timed.said('CA1', turn('never'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(batches).toHaveLength(1);
  });
});
