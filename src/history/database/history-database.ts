import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Secret } from '../../config/secret.js';
import type { HistoryTables } from './history.tables.js';
import { historyMigrations, MIGRATION_TABLE } from './history.migrations.js';
import { PgliteDialect } from './pglite.dialect.js';
import { PgliteThread, pgliteWorkerAvailable, type PgliteHandle } from './pglite-thread.js';

/** PostgreSQL connections one instance holds: writes are one at a time, reads are pages. */
export const HISTORY_DB_POOL_SIZE = 5;
/** How long a connection attempt to PostgreSQL may take before it counts as down. */
export const HISTORY_DB_CONNECT_TIMEOUT_MS = 5_000;
/** The longest a history query may run (statement_timeout). */
export const HISTORY_DB_QUERY_TIMEOUT_MS = 10_000;
/** The embedded database's folder under DATA_DIR. */
export const EMBEDDED_DB_FOLDER = 'history';

/** The history's database cannot be opened at start: one line for the operator, then exit 1. */
export class HistoryDatabaseUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryDatabaseUnavailableError';
  }
}

export interface HistoryDatabaseOptions {
  dataDir: string;
  databaseUrl?: Secret;
}

export interface OpenHistoryDatabase {
  db: Kysely<HistoryTables>;
  /** `postgres` (DATABASE_URL) or `embedded` (PGlite under DATA_DIR). */
  kind: 'postgres' | 'embedded';
  /** Embedded: the first query opens it; what to log when that fails. */
  describeFailure?: (error: unknown) => string;
  /** PostgreSQL: an error's message with DATABASE_URL's credentials taken out, for the log. */
  redact?: (message: string) => string;
}

/**
 * Opens the history's database and brings its schema up to date: PostgreSQL at DATABASE_URL,
 * else the embedded PGlite under DATA_DIR. Throws HistoryDatabaseUnavailableError (never the
 * URL's password) when it cannot be reached or migrated.
 */
export async function openHistoryDatabase(
  options: HistoryDatabaseOptions,
): Promise<OpenHistoryDatabase> {
  if (!options.databaseUrl) return openEmbedded(options.dataDir);
  const opened = await openPostgres(options.databaseUrl);
  try {
    await migrate(opened.db);
  } catch (error) {
    await opened.db.destroy().catch(() => undefined);
    throw new HistoryDatabaseUnavailableError(
      `Cannot migrate the history database (${where(options)}): ${messageOf(error)}`,
    );
  }
  return opened;
}

async function openPostgres(url: Secret): Promise<OpenHistoryDatabase> {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: url.reveal(),
    max: HISTORY_DB_POOL_SIZE,
    connectionTimeoutMillis: HISTORY_DB_CONNECT_TIMEOUT_MS,
    statement_timeout: HISTORY_DB_QUERY_TIMEOUT_MS,
    query_timeout: HISTORY_DB_QUERY_TIMEOUT_MS,
  });
  // A dropped connection is not a crash: idle, the pool emits it here; in use, its client emits
  // it too (with no listener, an uncaught exception that would end every call on the process),
  // while the query it was running fails with it, and that failure is what the writer or the
  // route sees and reports. The pool replaces the client; the next query reconnects.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new HistoryDatabaseUnavailableError(
      `Cannot reach the history database at DATABASE_URL (${hostOf(url)}): ${messageOf(error)}. ` +
        'Start PostgreSQL or fix DATABASE_URL (or set HISTORY=off).',
    );
  }
  return {
    db: new Kysely<HistoryTables>({ dialect: new PostgresDialect({ pool }) }),
    kind: 'postgres',
    redact: (message) => withoutCredentials(message, url),
  };
}

/**
 * The embedded database: its folder is checked now (an unwritable DATA_DIR stops the start), but
 * PGlite itself (seconds and a few hundred MB to create a cluster the first time) opens and
 * migrates in the background, so the service answers calls at once. Until it is ready, records
 * wait in the writer's bounded queue and reads wait for it; a failure is logged and retried.
 */
async function openEmbedded(dataDir: string): Promise<OpenHistoryDatabase> {
  const folder = join(dataDir, EMBEDDED_DB_FOLDER);
  const unavailable = (error: unknown) =>
    new HistoryDatabaseUnavailableError(
      `Cannot open the embedded history database in ${folder}: ${messageOf(error)}. ` +
        'Make DATA_DIR writable, set DATABASE_URL, or set HISTORY=off.',
    );
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
  } catch (error) {
    throw unavailable(error);
  }
  const open = async (): Promise<PgliteHandle> => {
    const pglite = await openPglite(folder);
    try {
      // Through a Kysely of its own: the application's waits for this to finish.
      await migrate(
        new Kysely<HistoryTables>({ dialect: new PgliteDialect(() => Promise.resolve(pglite)) }),
      );
    } catch (error) {
      await pglite.close().catch(() => undefined);
      throw error;
    }
    return pglite;
  };
  return {
    db: new Kysely<HistoryTables>({ dialect: new PgliteDialect(open) }),
    kind: 'embedded',
    describeFailure: (error) => unavailable(error).message,
  };
}

/** In a worker thread when built (PgliteThread); from source (ts-jest), in this one. */
async function openPglite(folder: string): Promise<PgliteHandle> {
  if (pgliteWorkerAvailable()) return PgliteThread.open(folder);
  const { PGlite } = await import('@electric-sql/pglite');
  return PGlite.create(folder);
}

async function migrate(db: Kysely<HistoryTables>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: historyMigrations,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(messageOf(error));
}

function where(options: HistoryDatabaseOptions): string {
  return options.databaseUrl
    ? `DATABASE_URL ${hostOf(options.databaseUrl)}`
    : join(options.dataDir, EMBEDDED_DB_FOLDER);
}

/** Where DATABASE_URL points, without its user or password: host:port/database. */
function hostOf(url: Secret): string {
  const parsed = new URL(url.reveal());
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/** pg's messages do not carry the URL, but a driver's or a proxy's might: never log it. */
function withoutCredentials(message: string, url: Secret): string {
  const parsed = new URL(url.reveal());
  const secrets = [url.reveal(), decodeURIComponent(parsed.password), parsed.password];
  let clean = message;
  for (const secret of secrets) if (secret) clean = clean.split(secret).join('***');
  return clean;
}

function messageOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
}
