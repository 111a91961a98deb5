import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { PgliteHandle } from './pglite-thread.js';

/**
 * Kysely over PGlite (PostgreSQL compiled to WASM, in this process): PostgreSQL's own compiler
 * and adapter, so every query and migration is the same SQL on both databases. PGlite is one
 * session, so the driver hands out its single connection to one user at a time: a transaction's
 * statements must never interleave with another query.
 */
export class PgliteDialect implements Dialect {
  /**
   * `open` makes the database ready; Kysely calls it once, before the first query (again after
   * a failure), and every query waits for it.
   */
  constructor(private readonly open: () => Promise<PgliteHandle>) {}

  createDriver(): Driver {
    return new PgliteDriver(this.open);
  }

  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }

  createAdapter() {
    return new PostgresAdapter();
  }

  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}

class PgliteDriver implements Driver {
  private db?: PgliteHandle;
  private connection?: PgliteConnection;
  /** Settles when the current holder releases the connection. */
  private held: Promise<void> = Promise.resolve();
  private release?: () => void;

  constructor(private readonly open: () => Promise<PgliteHandle>) {}

  async init(): Promise<void> {
    const db = await this.open();
    this.db = db;
    this.connection = new PgliteConnection(db);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.held;
    let release!: () => void;
    this.held = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.release = release;
    return this.connection!;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const level = settings.isolationLevel ? ` isolation level ${settings.isolationLevel}` : '';
    await connection.executeQuery(CompiledQuery.raw(`start transaction${level}`));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the Driver interface is async
  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  async destroy(): Promise<void> {
    await this.held;
    if (this.db && !this.db.closed) await this.db.close();
  }
}

class PgliteConnection implements DatabaseConnection {
  constructor(private readonly db: PgliteHandle) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.db.query<R>(compiled.sql, [...compiled.parameters]);
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined
        ? { numAffectedRows: BigInt(result.affectedRows) }
        : {}),
    };
  }

  /** Never used: the history reads pages, not streams. */
  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite: streaming queries are not supported');
  }
}
