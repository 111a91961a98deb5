import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** What the dialect needs of PGlite: in this thread, or in a worker (PgliteThread). */
export interface PgliteHandle {
  query<R>(sql: string, params: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  close(): Promise<void>;
  readonly closed: boolean;
}

export interface WorkerRequest {
  id: number;
  sql: string;
  params: unknown[];
  close?: boolean;
}

export type WorkerReply =
  | { id: number; ok: true; rows?: unknown[]; affectedRows?: number }
  | { id: number; error: { message: string; code?: string } };

/** The built worker; run from source (ts-jest), PGlite runs in this thread instead. */
const WORKER = new URL('./pglite.worker.js', import.meta.url);

export function pgliteWorkerAvailable(): boolean {
  return existsSync(WORKER);
}

/**
 * PGlite in a worker thread (pglite.worker.ts), queried by message: the event loop that carries
 * calls' audio never runs the database's WebAssembly. One query at a time is the dialect's rule.
 */
export class PgliteThread implements PgliteHandle {
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();
  private sequence = 0;
  private done = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    worker.on('exit', () => this.fail('the history database thread stopped'));
    worker.on('error', (error) => this.fail(error.message));
    worker.unref();
  }

  /**
   * Starts the thread and opens the database in it. The first open of a folder runs initdb, and
   * the thread keeps the WebAssembly memory that took for as long as it lives (measured: ~870 MB
   * resident after a first open, ~470 MB after a later one, ~200 MB with HISTORY=off). So a thread
   * that has just run initdb is closed, and a fresh one opens the files it made.
   */
  static async open(folder: string): Promise<PgliteThread> {
    const initialised = existsSync(join(folder, 'PG_VERSION'));
    const thread = await PgliteThread.start(folder);
    if (initialised) return thread;
    await thread.close();
    return PgliteThread.start(folder);
  }

  private static async start(folder: string): Promise<PgliteThread> {
    const thread = new PgliteThread(new Worker(WORKER, { workerData: { folder } }));
    await thread.reply(0);
    return thread;
  }

  get closed(): boolean {
    return this.done;
  }

  async query<R>(sql: string, params: unknown[]): Promise<{ rows: R[]; affectedRows?: number }> {
    const id = ++this.sequence;
    const reply = this.reply(id);
    this.worker.postMessage({ id, sql, params } satisfies WorkerRequest);
    const answered = await reply;
    return { rows: (answered.rows ?? []) as R[], affectedRows: answered.affectedRows };
  }

  async close(): Promise<void> {
    if (this.done) return;
    const id = ++this.sequence;
    const reply = this.reply(id);
    this.worker.postMessage({ id, sql: '', params: [], close: true } satisfies WorkerRequest);
    await reply.catch(() => undefined);
    this.done = true;
    await this.worker.terminate();
  }

  private reply(id: number): Promise<{ rows?: unknown[]; affectedRows?: number }> {
    if (this.done) return Promise.reject(new Error('the history database is closed'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) => {
        if ('error' in reply) {
          reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
        } else resolve(reply);
      });
    });
  }

  private fail(message: string): void {
    this.done = true;
    for (const settle of this.pending.values()) settle({ id: 0, error: { message } });
    this.pending.clear();
  }
}
