import { rmSync } from 'node:fs';
import type { EmbeddedDb } from '../../runtime/embedded-db/launcher';

export default async function globalTeardown(): Promise<void> {
  const db = (globalThis as { __paygraphDb?: EmbeddedDb }).__paygraphDb;
  if (!db) return;
  await db.stop();
  if (process.env.PAYGRAPH_TEST_DB_DIR) rmSync(process.env.PAYGRAPH_TEST_DB_DIR, { recursive: true, force: true });
}
