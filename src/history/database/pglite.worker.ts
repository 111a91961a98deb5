import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import type { WorkerReply, WorkerRequest } from './pglite-thread.js';

// The embedded database in a thread of its own: PGlite runs PostgreSQL as WebAssembly, whose
// work (initdb alone stalls a thread for up to ~0.9 s at a time) must never hold up the event
// loop that carries live calls' audio.
const { folder } = workerData as { folder: string };
const port = parentPort!;
try {
  const db = await PGlite.create(folder);
  port.on('message', (request: WorkerRequest) => {
    void answer(db, request).then((reply) => port.postMessage(reply));
  });
  port.postMessage({ id: 0, ok: true } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ id: 0, error: describe(error) } satisfies WorkerReply);
}

async function answer(db: PGlite, request: WorkerRequest): Promise<WorkerReply> {
  try {
    if (request.close) {
      await db.close();
      return { id: request.id, ok: true };
    }
    const result = await db.query(request.sql, request.params);
    return { id: request.id, ok: true, rows: result.rows, affectedRows: result.affectedRows };
  } catch (error) {
    return { id: request.id, error: describe(error) };
  }
}

function describe(error: unknown): { message: string; code?: string } {
  const code = (error as { code?: unknown } | undefined)?.code;
  return {
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
  };
}
