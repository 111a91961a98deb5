import { jest } from '@jest/globals';
import { Registry } from 'prom-client';
import { HistoryMetrics } from '../metrics/history-metrics.service.js';
import type { BridgeMetrics } from '../metrics/bridge-metrics.service.js';
import type { HistoryCallDetail, OpenCall, RecordingSummary } from './history-record.js';
import type { HistoryRepository } from './history.repository.js';
import { refusedForItsData } from './database-refusal.js';
import { HistoryWriter } from './history-writer.js';
import { listSids, MAX_CALL_SIDS_LOGGED } from './sid-list.js';

/** A database that can be down: writes fail while `up` is false. */
class FakeRepository {
  up = true;
  readonly saved = new Map<string, HistoryCallDetail>();
  /** Open calls, until their record is saved. */
  readonly openCalls = new Set<string>();

  /** Statements that wrote open rows, each with its calls. */
  readonly openWrites: string[][] = [];

  open(calls: OpenCall[]): Promise<void> {
    if (!this.up) return Promise.reject(new Error('connect ECONNREFUSED'));
    this.openWrites.push(calls.map((call) => call.callSid));
    for (const call of calls) if (!this.saved.has(call.callSid)) this.openCalls.add(call.callSid);
    return Promise.resolve();
  }

  save(record: HistoryCallDetail, closesOpenRow: boolean): Promise<void> {
    if (!this.up) return Promise.reject(new Error('connect ECONNREFUSED'));
    if (record.reason === 'unstorable') {
      const refused = Object.assign(new Error('unsupported Unicode escape sequence'), {
        code: '22P05',
      });
      return Promise.reject(refused);
    }
    this.saved.set(record.callSid, structuredClone(record));
    if (closesOpenRow) this.openCalls.delete(record.callSid);
    return Promise.resolve();
  }

  erase(callSid: string, ended: boolean): Promise<boolean> {
    if (!this.up) return Promise.reject(new Error('connect ECONNREFUSED'));
    const found = this.saved.delete(callSid);
    if (found || ended) this.openCalls.delete(callSid);
    return Promise.resolve(found);
  }

  setRecording(callSid: string, recording: RecordingSummary | null): Promise<boolean> {
    if (!this.up) return Promise.reject(new Error('connect ECONNREFUSED'));
    const record = this.saved.get(callSid);
    if (record) record.recording = recording;
    return Promise.resolve(record !== undefined);
  }
}

const record = (callSid: string) => ({ callSid, recording: null }) as unknown as HistoryCallDetail;
const recording: RecordingSummary = {
  durationMs: 1000,
  channels: 2,
  sampleRate: 8000,
  bytes: 32_044,
};
const flushed = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('HistoryWriter', () => {
  let repository: FakeRepository;
  let registry: Registry;
  let metrics: HistoryMetrics;
  const log = { log: jest.fn(), warn: jest.fn(), error: jest.fn() };

  const metric = async (name: string) =>
    (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;

  beforeEach(() => {
    repository = new FakeRepository();
    registry = new Registry();
    metrics = new HistoryMetrics({ registry } as BridgeMetrics);
    jest.clearAllMocks();
  });

  it('drops a write the database refuses for its data, and goes on with the next', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      retryFirstMs: 5,
      retryMaxMs: 10,
    });
    writer.save({ ...record('CA1'), reason: 'unstorable' });
    writer.save(record('CA2'));
    await flushed();
    expect([...repository.saved.keys()]).toEqual(['CA2']);
    expect(writer.pending).toBe(0);
    expect(await metric('bridge_history_dropped_total')).toBe(1);
    expect(log.error).toHaveBeenCalledWith(
      'history: the database refused the record of call CA1 for its data (unsupported Unicode ' +
        'escape sequence): it is dropped, the writes after it go on',
    );
  });

  it('tells a refusal for the data from a failure that may pass', () => {
    const failure = (code?: string) => Object.assign(new Error('x'), code ? { code } : {});
    for (const code of ['22P05', '22021', '23505', '54000']) {
      expect(refusedForItsData(failure(code))).toBe(true);
    }
    for (const code of ['ECONNREFUSED', '57P01', '08006', '53300', '42703', '40001', undefined]) {
      expect(refusedForItsData(failure(code))).toBe(false);
    }
  });

  it('writes records when the database is back, in order, after failing writes', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      retryFirstMs: 5,
      retryMaxMs: 10,
    });
    repository.up = false;
    writer.save(record('CA1'));
    writer.save(record('CA2'));
    await flushed();
    expect(repository.saved.size).toBe(0);
    expect(writer.pending).toBe(2);
    expect(await metric('bridge_history_pending_records')).toBe(2);
    expect(log.warn).toHaveBeenCalledWith(expect.stringMatching(/refused a write/));

    repository.up = true;
    await flushed();
    expect([...repository.saved.keys()]).toEqual(['CA1', 'CA2']);
    expect(writer.pending).toBe(0);
    expect(log.log).toHaveBeenCalledWith(expect.stringMatching(/answers again/));
    writer.close();
  });

  it('writes the open rows of calls that start together in one statement, before their records', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      retryFirstMs: 5,
      openBatchMs: 10,
    });
    writer.open({ callSid: 'CA0' } as OpenCall);
    writer.save(record('CA0')); // ended within the batch: it never needs an open row
    writer.open({ callSid: 'CA1' } as OpenCall);
    writer.open({ callSid: 'CA2' } as OpenCall);
    await flushed();
    expect(repository.openWrites).toEqual([['CA1', 'CA2']]);

    repository.up = false;
    writer.save(record('CA1'));
    await flushed();
    expect(writer.pending).toBe(1);
    expect(await metric('bridge_history_pending_records')).toBe(1);
    repository.up = true;
    await flushed();
    expect([...repository.openCalls]).toEqual(['CA2']);
    expect([...repository.saved.keys()]).toEqual(['CA0', 'CA1']);
    expect(writer.close()).toEqual([]);
  });

  it("says at close which calls' records and recordings still wait: they are lost", async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      retryFirstMs: 60_000,
      openBatchMs: 1,
    });
    repository.up = false;
    writer.open({ callSid: 'CA0' } as OpenCall);
    await flushed();
    writer.save(record('CA1'));
    writer.recording('CA2', recording);
    await flushed();
    // The open row is not a record: a crash, not this close, is what it guards against.
    expect(writer.close()).toEqual(['CA1', 'CA2']);
  });

  it('names at most MAX_CALL_SIDS_LOGGED calls in a line, and counts the rest', () => {
    const sids = Array.from({ length: MAX_CALL_SIDS_LOGGED + 3 }, (_, i) => `CA${i}`);
    expect(listSids(sids.slice(0, 2))).toBe('CA0, CA1');
    expect(listSids(sids)).toBe(`${sids.slice(0, MAX_CALL_SIDS_LOGGED).join(', ')} and 3 more`);
  });

  it('counts only records as pending while open rows wait for the database too', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      retryFirstMs: 5,
      openBatchMs: 1,
    });
    repository.up = false;
    writer.open({ callSid: 'CA1' } as OpenCall);
    await flushed();
    writer.save(record('CA1'));
    await flushed();
    expect(writer.pending).toBe(2);
    expect(await metric('bridge_history_pending_records')).toBe(1);
    repository.up = true;
    await flushed();
    // Had the open row come after the record, CA1 would be left open, and later found lost.
    expect([...repository.openCalls]).toEqual([]);
    writer.close();
  });

  it('counts and logs the records that do not fit the queue', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      retryFirstMs: 60_000,
      maxPending: 2,
    });
    repository.up = false;
    for (const sid of ['CA1', 'CA2', 'CA3']) writer.save(record(sid));
    await flushed();

    expect(writer.pending).toBe(2);
    expect(await metric('bridge_history_dropped_total')).toBe(1);
    expect(log.error).toHaveBeenCalledWith(expect.stringMatching(/the record of call CA3 is lost/));
    writer.close();
  });

  it('links a recording that arrives before its record, and one that arrives after', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log);
    writer.recording('CA1', recording);
    await flushed();
    writer.save(record('CA1'));
    writer.save(record('CA2'));
    await flushed();
    writer.recording('CA2', recording);
    await flushed();

    expect(repository.saved.get('CA1')?.recording).toEqual(recording);
    expect(repository.saved.get('CA2')?.recording).toEqual(recording);
    writer.close();
  });

  it('links a recording that arrives while its record is being written', async () => {
    // The INSERT reads the record when it starts, as the database does, and ends later.
    let finish = () => undefined as void;
    const save = repository.save.bind(repository);
    repository.save = (detail, closesOpenRow) => {
      const written = save(structuredClone(detail), closesOpenRow);
      return new Promise((resolve) => (finish = () => resolve(written)));
    };
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log);
    writer.save(record('CA1'));
    writer.recording('CA1', recording);
    finish();
    await flushed();

    expect(repository.saved.get('CA1')?.recording).toEqual(recording);
    writer.close();
  });

  it('erases a waiting record and its open row once the database answers; not a live call', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      retryFirstMs: 5,
      openBatchMs: 1,
    });
    writer.open({ callSid: 'CA2' } as OpenCall);
    writer.open({ callSid: 'CA3' } as OpenCall);
    await flushed();
    repository.up = false;
    writer.save(record('CA1'));
    writer.save(record('CA2'));
    writer.recording('CA2', recording);
    const erased = writer.erase('CA2');
    // A live call's open row is not a record: nothing to erase yet, and it stays.
    const live = writer.erase('CA3');
    await flushed();
    repository.up = true;
    await expect(erased).resolves.toBe(true);
    await expect(live).resolves.toBe(false);
    expect([...repository.saved.keys()]).toEqual(['CA1']);
    // CA2's open row would have come back as a lost call's record.
    expect([...repository.openCalls]).toEqual(['CA3']);
    writer.close();
  });

  it('erases a record after its write in flight, whose INSERT would otherwise bring it back', async () => {
    let finish = () => undefined as void;
    const save = repository.save.bind(repository);
    repository.save = (detail, closesOpenRow) =>
      new Promise((resolve) => (finish = () => resolve(save(detail, closesOpenRow))));
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log);
    writer.save(record('CA1'));
    const erased = writer.erase('CA1');
    finish();
    await expect(erased).resolves.toBe(true);
    expect(repository.saved.size).toBe(0);
    writer.close();
  });

  it('says an erasure failed when the queue has no room or the database refuses it', async () => {
    const writer = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log, {
      maxPending: 1,
    });
    repository.up = false;
    writer.save(record('CA1'));
    await expect(writer.erase('CA2')).rejects.toThrow('1 writes already wait for the database');
    writer.close();

    const refusing = new HistoryWriter(repository as unknown as HistoryRepository, metrics, log);
    repository.up = true;
    repository.erase = () =>
      Promise.reject(Object.assign(new Error('value too long'), { code: '22001' }));
    await expect(refusing.erase('CA1')).rejects.toThrow('value too long');
    refusing.close();
  });
});
