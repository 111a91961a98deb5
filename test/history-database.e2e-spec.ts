import { sql } from 'kysely';
import { Secret } from '../src/config/secret.js';
import {
  openHistoryDatabase,
  type OpenHistoryDatabase,
} from '../src/history/database/history-database.js';
import { TestPostgres } from './support/postgres-server.js';
import { TcpProxy } from './support/tcp-proxy.js';

// The history's PostgreSQL connections when the network between them fails: a dropped connection
// fails what it was doing, and nothing else (the process is the calls').
describe('the history database (PostgreSQL) losing its connections', () => {
  let postgres: TestPostgres;
  let proxy: TcpProxy;
  let opened: OpenHistoryDatabase;

  beforeAll(async () => {
    postgres = await TestPostgres.start();
    proxy = await TcpProxy.start(postgres.port);
    const url = postgres.url.replace(`:${postgres.port}/`, `:${proxy.port}/`);
    opened = await openHistoryDatabase({ dataDir: '/nonexistent', databaseUrl: new Secret(url) });
  }, 60_000);

  afterAll(async () => {
    await opened?.db.destroy();
    await proxy?.close();
    await postgres?.stop();
  });

  it('fails the query a cut connection was running, and the next query reconnects', async () => {
    const running = sql`select pg_sleep(5)`.execute(opened.db);
    const failed = running.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Without a listener on the checked-out client, pg re-throws this as an uncaught 'error'
    // event: the process would stop with every call on it.
    proxy.cut();
    expect(await failed).toMatch(/Connection terminated/);
    proxy.restore();
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(opened.db);
    expect(rows).toEqual([{ one: 1 }]);
  });
});
