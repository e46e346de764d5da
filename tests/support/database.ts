import { randomBytes } from 'node:crypto';

/**
 * Gives the calling test file databases of its own (`t<random>_accounts`, …) on the shared
 * embedded server, so files never see each other's data. Call at the top of a test file.
 */
export function isolateDatabases(): string {
  const prefix = `t${randomBytes(4).toString('hex')}_`;
  process.env.MONGODB_DB_PREFIX = prefix;
  return prefix;
}
