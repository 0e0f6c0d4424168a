// The store's suite on PostgreSQL: a server of its own, started from Debian's package.
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer } from '../test-support/postgres-server.ts';
import { openDatabase } from './database.ts';
import { storeSuite } from './store-suite.ts';

let server: PostgresServer | undefined;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

storeSuite('PostgreSQL', () => {
  if (!server) throw new Error('the PostgreSQL server did not start');
  return openDatabase({ dataDir: '/nonexistent', databaseUrl: server.url });
});
