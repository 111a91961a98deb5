import { sql, type Kysely, type Selectable } from 'kysely';
import type { HistoryTables, OpenCallsTable } from './database/history.tables.js';
import {
  instanceOfOwner,
  lostRecordOf,
  type HistoryTurn,
  type LostCall,
} from './history-record.js';
import { storableJson } from './database/storable.js';
import { callStartOf, insertRecord, toIso } from './history.repository.js';
import type { OpenCallTurnsBatch } from './open-call-turns.js';
import type { DatabaseReachability } from './database-reachability.js';

/** How often a process says its open calls are alive, and looks for lost ones. */
export const OPEN_CALL_HEARTBEAT_MS = 15_000;
/**
 * A shared database's open call not seen for this long is lost (four missed heartbeats). A
 * sweeper also waits this long with the database answering before its first sweep, and after
 * every outage: the owners' heartbeats have had the same time to land.
 */
export const OPEN_CALL_STALE_MS = 60_000;
/**
 * A predecessor's open call (the same INSTANCE_ID, an earlier boot) not seen for this long is
 * lost, without waiting for OPEN_CALL_STALE_MS: a restarted process finds its predecessor's calls
 * at once. Two heartbeats, so that a live process given the same INSTANCE_ID by mistake, which
 * touches its calls every 15 s, never has them taken (or its SIP calls hung up) for a
 * predecessor's.
 */
export const PREDECESSOR_UNSEEN_MS = 2 * OPEN_CALL_HEARTBEAT_MS;
/** Lost calls recorded per sweep at most, the longest unseen first; more wait for the next. */
export const MAX_LOST_CALLS_PER_SWEEP = 100;

/** The open-call queries of the heartbeat and the sweep. */
export class LostCallsRepository {
  constructor(private readonly db: Kysely<HistoryTables>) {}

  /** The owner is alive: its open calls are seen now (the database's clock). */
  async touch(owner: string): Promise<void> {
    await this.db
      .updateTable('open_calls')
      .set({ seen_at: sql<Date>`now()` })
      .where('owner', '=', owner)
      .execute();
  }

  /**
   * Appends each call's turns to its open row (this owner's only), all in one statement; says
   * which calls' rows took them (a row not written yet takes nothing).
   */
  async appendTurns(owner: string, batch: readonly OpenCallTurnsBatch[]): Promise<string[]> {
    if (batch.length === 0) return [];
    const values = sql.join(
      batch.map(({ callSid, turns }) => sql`(${callSid}, ${storableJson(turns)})`),
    );
    const { rows } = await sql<{ call_sid: string }>`
      update open_calls as o set transcript = o.transcript || v.turns::jsonb
      from (values ${values}) as v(call_sid, turns)
      where o.call_sid = v.call_sid and o.owner = ${owner}
      returning o.call_sid`.execute(this.db);
    return rows.map((row) => row.call_sid);
  }

  /**
   * Takes at most `limit` open calls of other processes, the longest unseen first, and writes
   * each a `lost` record (a record already there stays), in one transaction: those of an earlier
   * process of the same INSTANCE_ID (its predecessor, restarted in place) not seen for
   * PREDECESSOR_UNSEEN_MS, and, with `staleMs`, any not seen for that long. Rows another
   * sweeper holds are skipped, so each lost call is recorded once.
   */
  async recordLost(owner: string, limit: number, staleMs?: number): Promise<LostCall[]> {
    const predecessors = `${instanceOfOwner(owner)}/`;
    const unseenFor = (ms: number) =>
      sql<boolean>`seen_at < now() - make_interval(secs => ${ms / 1000})`;
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .deleteFrom('open_calls')
        .where('call_sid', 'in', (eb) =>
          eb
            .selectFrom('open_calls')
            .select('call_sid')
            .where('owner', '<>', owner)
            .where(
              eb.or([
                eb.and([
                  sql<boolean>`starts_with(owner, ${predecessors})`,
                  unseenFor(PREDECESSOR_UNSEEN_MS),
                ]),
                ...(staleMs === undefined ? [] : [unseenFor(staleMs)]),
              ]),
            )
            .orderBy('seen_at')
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .returningAll()
        .execute();
      const lost = rows.map((row) => lostCallOf(row, row.owner.startsWith(predecessors)));
      for (const call of lost) await insertRecord(trx, lostRecordOf(call), 'keep');
      return lost;
    });
  }
}

export interface LostCallSweeperOptions {
  /**
   * The database is this process's alone (the embedded one): every other owner's open call is
   * a predecessor's, lost at once.
   */
  exclusive: boolean;
  log: { warn(message: string): void };
  /** Told of every heartbeat: the one writer that reaches the database with no call ending. */
  reachability: Pick<DatabaseReachability, 'failed' | 'answered'>;
  /** Each call recorded as lost (metrics). */
  onLost?: (call: LostCall) => void;
  /** OPEN_CALL_STALE_MS unless a test shortens it. */
  staleMs?: number;
}

/**
 * Keeps this process's open calls seen, and records as `lost` the open calls of processes that
 * stopped without ending them (SIGKILL, out of memory, a lost node): their calls would
 * otherwise never reach the history. On a shared database another instance records them; on
 * the embedded one, the next process on the same DATA_DIR.
 */
export class LostCallSweeper {
  private timer?: NodeJS.Timeout;
  /** Since when the database has answered every heartbeat (undefined: it did not, last time). */
  private answeringSince?: number;
  private running?: Promise<LostCall[]>;
  private stopped = false;
  private readonly staleMs: number;

  constructor(
    private readonly repository: LostCallsRepository,
    private readonly owner: string,
    private readonly options: LostCallSweeperOptions,
  ) {
    this.staleMs = options.staleMs ?? OPEN_CALL_STALE_MS;
  }

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), OPEN_CALL_HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Stops the heartbeat (one under way records nothing more). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** One heartbeat, then a sweep when one is due; says which calls it recorded as lost. */
  beat(): Promise<LostCall[]> {
    // One at a time: a slow database must not pile heartbeats up.
    this.running ??= this.beatOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async beatOnce(): Promise<LostCall[]> {
    try {
      await this.repository.touch(this.owner);
      this.options.reachability.answered();
      this.answeringSince ??= Date.now();
      if (this.stopped) return [];
      const found = await this.repository.recordLost(
        this.owner,
        MAX_LOST_CALLS_PER_SWEEP,
        this.staleWindow(),
      );
      const lost = this.options.exclusive
        ? found.map((call) => ({ ...call, predecessor: true }))
        : found;
      for (const call of lost) this.reportLost(call);
      return lost;
    } catch (error) {
      // The outage is logged (once) and shown by the reachability; the sweep waits for the
      // database to answer a whole window again.
      this.answeringSince = undefined;
      this.options.reachability.failed(
        'the open calls heartbeat',
        error,
        `the next one in ${OPEN_CALL_HEARTBEAT_MS / 1000} s`,
      );
      return [];
    }
  }

  /**
   * How long another process's call must go unseen to be taken as lost; undefined while only
   * predecessors' calls may be. The embedded database has no other live user: every call is its
   * predecessor's. A shared one: once the database has answered this process for the window.
   */
  private staleWindow(): number | undefined {
    if (this.options.exclusive) return 0;
    return Date.now() - this.answeringSince! >= this.staleMs ? this.staleMs : undefined;
  }

  private reportLost(call: LostCall): void {
    this.options.onLost?.(call);
    this.options.log.warn(
      `history: call ${call.callSid} (started ${call.startedAt}) was lost with its process ` +
        `${call.owner}, last seen ${call.seenAt}: recorded with outcome lost`,
    );
  }
}

function lostCallOf(row: Selectable<OpenCallsTable>, predecessor: boolean): LostCall {
  return {
    ...callStartOf(row),
    owner: row.owner,
    streamSid: row.stream_sid,
    seenAt: toIso(row.seen_at),
    transcript: row.transcript as HistoryTurn[],
    predecessor,
  };
}
