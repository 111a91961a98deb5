import {
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  ServiceUnavailableException,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import {
  clusterConfig,
  historyConfig,
  type ClusterConfig,
  type HistoryConfig,
} from '../config/config.namespaces.js';
import { CallDirectory } from '../directory/call-directory.js';
import { CallEventBus } from '../events/call-event-bus.js';
import {
  CallEvent,
  type CallEndedEvent,
  type CallStartedEvent,
  type CallTranscriptEvent,
} from '../events/call-events.js';
import { HistoryMetrics } from '../metrics/history-metrics.service.js';
import type { OpenHistoryDatabase } from './database/history-database.js';
import type { HistoryTables } from './database/history.tables.js';
import {
  HISTORY_DATABASE,
  HISTORY_SHUTDOWN_FLUSH_MS,
  HistoryEvent,
  RETENTION_FIRST_RUN_MS,
  RETENTION_INTERVAL_MS,
} from './history.constants.js';
import type { HistoryQuery } from './history-query.js';
import {
  openCallOf,
  recordOf,
  type HistoryCallDetail,
  type RecordingSummary,
} from './history-record.js';
import { HistoryRepository, type HistoryPage } from './history.repository.js';
import { ErasedElsewhere } from './erased-elsewhere.js';
import { HistoryErasure } from './history-erasure.js';
import { HistoryRetention } from './history-retention.js';
import { HistoryWriter } from './history-writer.js';
import { listSids } from './sid-list.js';
import { DatabaseReachability, type DatabaseOutage } from './database-reachability.js';
import { LiveCallCheck } from './live-call-check.js';
import { LostCallSweeper, LostCallsRepository } from './lost-calls.js';
import { OpenCallTurns } from './open-call-turns.js';

/**
 * The call history: a record per ended call (from `call.ended`, SIP calls too), a `lost` one
 * for a call whose process stopped without ending it, the recording the recordings module
 * reports, erasure and retention. With HISTORY=off there is no database and every route
 * answers 404.
 */
@Injectable()
export class HistoryService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('History');
  private readonly repository?: HistoryRepository;
  private readonly writer?: HistoryWriter;
  private readonly erasure?: HistoryErasure;
  private readonly erasedElsewhere?: ErasedElsewhere;
  private readonly sweeper?: LostCallSweeper;
  private readonly turns?: OpenCallTurns;
  private readonly reachability?: DatabaseReachability;
  /** This process among the database's users: INSTANCE_ID, and a boot id for a restart in place. */
  private readonly owner: string;
  private retentionTimer?: NodeJS.Timeout;
  private readonly db: Kysely<HistoryTables> | null;
  /** Whether the database has answered (the embedded one opens after the app listens). */
  private opened: boolean;

  constructor(
    @Inject(HISTORY_DATABASE) private readonly database: OpenHistoryDatabase | null,
    @Inject(historyConfig.KEY) private readonly cfg: HistoryConfig,
    @Inject(clusterConfig.KEY) cluster: ClusterConfig,
    private readonly events: CallEventBus,
    metrics: HistoryMetrics,
    private readonly directory: CallDirectory,
    live: LiveCallCheck,
  ) {
    const db = (this.db = database?.db ?? null);
    this.opened = database?.kind !== 'embedded';
    this.owner = `${cluster.instanceId}/${randomBytes(4).toString('hex')}`;
    if (db) {
      this.repository = new HistoryRepository(db);
      // One view of the database for every writer: with no call ending, only the heartbeat and
      // the turns reach it, and their failures must show as an outage too.
      const reachability = (this.reachability = new DatabaseReachability(
        metrics,
        this.log,
        database?.redact,
      ));
      this.writer = new HistoryWriter(this.repository, metrics, this.log, { reachability });
      this.erasure = new HistoryErasure(this.writer, live, directory, events, this.log);
      this.erasedElsewhere = new ErasedElsewhere(this.writer, live, events, this.log);
      const openCalls = new LostCallsRepository(db);
      this.turns = new OpenCallTurns(
        (batch) => openCalls.appendTurns(this.owner, batch),
        this.log,
        reachability,
      );
      this.sweeper = new LostCallSweeper(openCalls, this.owner, {
        exclusive: database?.kind === 'embedded',
        log: this.log,
        reachability,
        onLost: (call) => {
          metrics.lostCallRecorded();
          this.events.emit(HistoryEvent.CallLost, call);
        },
      });
    }
  }

  get enabled(): boolean {
    return this.repository !== undefined;
  }

  /** Readiness: false while the embedded database is still opening (or could not open). */
  get ready(): boolean {
    return this.opened;
  }

  /** Set while the database does not answer the history's writes (health, not readiness). */
  get databaseDown(): DatabaseOutage | undefined {
    return this.reachability?.down;
  }

  onModuleInit(): void {
    const { writer, turns, erasedElsewhere } = this;
    if (!writer || !turns || !erasedElsewhere) return;
    if (!this.opened) this.openInBackground();
    // Plain listeners, not @OnEvent: they work in any app that imports the bridge.
    this.events.on(CallEvent.Started, (event: CallStartedEvent) => {
      writer.open(openCallOf(event, this.owner));
      turns.started(event.callSid, event.at);
    });
    this.events.on(CallEvent.Transcript, (event: CallTranscriptEvent) =>
      turns.said(event.callSid, event),
    );
    this.events.on(CallEvent.Ended, (event: CallEndedEvent) => {
      turns.ended(event.callSid);
      if (erasedElsewhere.dropsRecord(event.callSid, event.startedAt)) return;
      writer.save(recordOf(event, this.cfg.priceTable));
    });
    // The instance that served an erasure did its own part; what this one holds goes here.
    this.directory.onCallErased((callSid, elsewhere) => {
      if (elsewhere) erasedElsewhere.heard(callSid);
    });
    this.events.on(
      HistoryEvent.RecordingSaved,
      (saved: { callSid: string; recording: RecordingSummary }) =>
        writer.recording(saved.callSid, saved.recording),
    );
    this.events.on(HistoryEvent.RecordingExpired, (expired: { callSid: string }) =>
      writer.recording(expired.callSid, null),
    );
    this.scheduleRetention(RETENTION_FIRST_RUN_MS);
    this.sweeper?.start();
  }

  async list(query: HistoryQuery): Promise<HistoryPage> {
    return this.read((repository) => repository.list(query));
  }

  async get(callSid: string): Promise<HistoryCallDetail> {
    const call = await this.read((repository) => repository.get(callSid));
    if (!call) throw new NotFoundException(`no call ${callSid} in the history`);
    return call;
  }

  /** An erasure request (history-erasure.ts): 409 for a live call, 404 when nothing is kept. */
  async erase(callSid: string): Promise<void> {
    if (!this.erasure) throw new NotFoundException();
    await this.erasure.erase(callSid);
  }

  /** Runs retention now (the daily job; tests). */
  async expire(now: () => number = Date.now): Promise<number> {
    const { repository } = this.available();
    return new HistoryRetention(repository, this.cfg.historyRetentionDays, now).run();
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.retentionTimer);
    this.sweeper?.stop();
    this.turns?.stop();
    const writer = this.writer;
    if (!writer || !this.db) return;
    // Calls drained before this: give their last records a moment to be written.
    const deadline = Date.now() + HISTORY_SHUTDOWN_FLUSH_MS;
    while (writer.pending > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Logged before the database is closed: whatever happens after, the calls are named.
    const lost = writer.close();
    if (lost.length > 0) {
      this.log.error(
        `history: ${lost.length} records not written before shutdown (the database did not ` +
          `take them within ${HISTORY_SHUTDOWN_FLUSH_MS} ms), lost: calls ${listSids(lost)}`,
      );
    }
    await this.db.destroy();
  }

  /**
   * The embedded database's first query opens it (seconds the first time, in this process):
   * started now, so it is ready before the first call ends; until then records wait in the
   * writer's queue and reads wait for it.
   */
  private openInBackground(): void {
    const describe = this.database?.describeFailure ?? ((error: unknown) => String(error));
    sql`select 1`.execute(this.db!).then(
      () => {
        this.opened = true;
        this.log.log(`the embedded history database is ready (${this.cfg.dataDir})`);
      },
      (error: unknown) => this.log.error(describe(error)),
    );
  }

  private scheduleRetention(delayMs: number): void {
    this.retentionTimer = setTimeout(() => {
      this.expire()
        .then((count) => {
          if (count > 0) {
            this.log.log(
              `retention: ${count} records older than ${this.cfg.historyRetentionDays} days deleted`,
            );
          }
        })
        .catch((error: unknown) =>
          this.log.warn(
            `retention failed (${error instanceof Error ? error.message : String(error)}); next run in a day`,
          ),
        )
        .finally(() => this.scheduleRetention(RETENTION_INTERVAL_MS));
    }, delayMs);
    this.retentionTimer.unref();
  }

  private available(): { repository: HistoryRepository; writer: HistoryWriter } {
    if (!this.repository || !this.writer) throw new NotFoundException();
    return { repository: this.repository, writer: this.writer };
  }

  /** A read while the database is down is a 503 that says so, not a 500. */
  private async read<T>(query: (repository: HistoryRepository) => Promise<T>): Promise<T> {
    const { repository } = this.available();
    try {
      return await query(repository);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn(`history read failed: ${message}`);
      throw new ServiceUnavailableException('the history database is not answering; try again');
    }
  }
}
