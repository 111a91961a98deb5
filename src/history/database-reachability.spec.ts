import { jest } from '@jest/globals';
import { Registry } from 'prom-client';
import { TestPostgres } from '../../test/support/postgres-server.js';
import { Secret } from '../config/secret.js';
import type { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import { HistoryMetrics } from '../metrics/history-metrics.service.js';
import { openHistoryDatabase, type OpenHistoryDatabase } from './database/history-database.js';
import { DatabaseReachability } from './database-reachability.js';
import { HistoryRepository } from './history.repository.js';
import { HistoryWriter } from './history-writer.js';
import { LostCallSweeper, LostCallsRepository } from './lost-calls.js';
import { OpenCallTurns } from './open-call-turns.js';

const OWNER = 'bridge-a/0a0a0a0a';
const STARTED = '2026-12-06T10:00:00.000Z';

// A PostgreSQL outage while no call ends: only the open calls' heartbeat and their turns reach
// the database then. Their failures must make the outage seen (one warn line, the metric,
// `down` for /health) and its end too, as the record writer's do. A real PostgreSQL, stopped and
// started: the errors are the ones pg gives.
describe('DatabaseReachability (a real PostgreSQL stopped and started)', () => {
  let postgres: TestPostgres;
  let opened: OpenHistoryDatabase;
  let registry: Registry;
  let metrics: HistoryMetrics;
  let reachability: DatabaseReachability;
  let sweeper: LostCallSweeper;
  let turns: OpenCallTurns;
  let writer: HistoryWriter;
  const log = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };

  const writeErrors = async () =>
    (await registry.getSingleMetric('bridge_history_write_errors_total')!.get()).values[0]?.value ??
    0;
  const warnings = () => log.warn.mock.calls.map(([line]) => line as string);

  beforeAll(async () => {
    postgres = await TestPostgres.start();
    opened = await openHistoryDatabase({
      dataDir: '/nonexistent',
      databaseUrl: new Secret(postgres.url),
    });
    registry = new Registry();
    metrics = new HistoryMetrics({ registry } as BridgeMetrics);
    // Wired as HistoryService wires them: one reachability for every writer.
    reachability = new DatabaseReachability(metrics, log, opened.redact);
    const openCalls = new LostCallsRepository(opened.db);
    sweeper = new LostCallSweeper(openCalls, OWNER, { exclusive: false, log, reachability });
    turns = new OpenCallTurns(
      (batch) => openCalls.appendTurns(OWNER, batch),
      log,
      reachability,
      60_000,
    );
    writer = new HistoryWriter(new HistoryRepository(opened.db), metrics, log, {
      reachability,
      retryFirstMs: 60_000,
    });
  }, 120_000);

  afterAll(async () => {
    sweeper?.stop();
    turns?.stop();
    writer?.close();
    await opened?.db.destroy();
    await postgres?.destroy();
  });

  it('logs one warn line when the heartbeat starts failing, counts every failure, and one line when it answers again', async () => {
    await sweeper.beat();
    expect(reachability.down).toBeUndefined();
    turns.started('CA1', STARTED);

    await postgres.stop();
    await sweeper.beat();
    turns.said('CA1', { role: 'caller', text: 'hello', at: STARTED });
    await turns.flush();
    await sweeper.beat();

    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(
      /^history: the database refused a write \(the open calls heartbeat: .*(ECONNREFUSED|connect|terminat|shutdown).*\); the next one in 15 s/i,
    );
    expect(warnings()[0]).not.toContain('not-a-real-password');
    expect(await writeErrors()).toBe(3);
    expect(reachability.down).toEqual({
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      message: expect.any(String),
    });
    expect(log.log).not.toHaveBeenCalled();

    await postgres.start();
    await sweeper.beat();
    expect(reachability.down).toBeUndefined();
    expect(log.log).toHaveBeenCalledTimes(1);
    expect(log.log).toHaveBeenCalledWith(
      expect.stringMatching(/^history: the database answers again after \d+ s$/),
    );
    // The turns' next statement is answered (their call has no open row here: none taken).
    await turns.flush();
    expect(warnings()).toHaveLength(1);
    expect(log.log).toHaveBeenCalledTimes(1);
  }, 60_000);

  it('takes the record writer in the same outage: still one line', async () => {
    log.warn.mockClear();
    log.log.mockClear();
    await postgres.stop();
    await turns.flush();
    turns.said('CA1', { role: 'caller', text: 'again', at: STARTED });
    await turns.flush();
    writer.recording('CA9', null);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(writer.pending).toBe(1);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/the turns of open calls: /);

    await postgres.start();
    await sweeper.beat();
    expect(reachability.down).toBeUndefined();
    expect(log.log).toHaveBeenCalledTimes(1);
  }, 60_000);
});

describe('DatabaseReachability', () => {
  it('says what a connection refused on every address was, though its error has no message', () => {
    const log = { log: jest.fn(), warn: jest.fn() };
    const reachability = new DatabaseReachability({ writeFailed: jest.fn() }, log);
    const refused = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });
    reachability.failed('the open calls heartbeat', refused, 'the next one in 15 s');
    expect(log.warn).toHaveBeenCalledWith(
      expect.stringContaining('(the open calls heartbeat: ECONNREFUSED)'),
    );
    expect(reachability.down?.message).toBe('ECONNREFUSED');
  });
});
