import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedDb } from '../../runtime/embedded-db/launcher';

/**
 * Starts one embedded FerretDB on a throwaway directory for the whole test run, unless
 * MONGODB_URI points at a database already. Each test file isolates itself with its own
 * database prefix (see ./database.ts).
 */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  if (process.env.MONGODB_URI) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'paygraph-test-db-'));
  const db = await startEmbeddedDb({ dataDir, log: (line) => console.log(line) });
  process.env.MONGODB_URI = db.uri;
  process.env.PAYGRAPH_TEST_DB_DIR = dataDir;
  (globalThis as { __paygraphDb?: typeof db }).__paygraphDb = db;
}
