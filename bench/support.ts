import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../runtime/config';
import { ALL_SCOPES, signDevToken } from '../runtime/dev-token';
import { startEmbeddedDb, type EmbeddedDb } from '../runtime/embedded-db/launcher';
import { sumDbCommands } from '../runtime/metrics';
import { graphqlData, graphqlRequest } from '../scripts/gateway-client';
import { launchStack, type RunningStack } from '../scripts/stack';

export interface BenchStack extends RunningStack {
  readonly token: string;
  /** The embedded database's process id (undefined on MONGODB_URI): its CPU is measured too. */
  readonly dbPid: number | undefined;
}

/**
 * Starts the whole graph on a fresh embedded database for a benchmark (or on MONGODB_URI).
 * The database is started here rather than by launchStack, so the benchmark knows its process.
 */
export async function startBenchStack(env: Record<string, string> = {}): Promise<BenchStack> {
  let db: EmbeddedDb | undefined;
  let dataDir: string | undefined;
  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    dataDir = mkdtempSync(join(tmpdir(), 'paygraph-bench-'));
    db = await startEmbeddedDb({ dataDir });
    mongoUri = db.uri;
  }
  const removeDb = async () => {
    await db?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let stack: RunningStack;
  try {
    stack = await launchStack({
      mongoUri,
      gatewayPort: 4100,
      subgraphPorts: { accounts: 4101, payments: 4102, risk: 4103, compliance: 4104 },
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', RATE_LIMIT_PER_SECOND: '1000000', RATE_LIMIT_BURST: '1000000', COMPLIANCE_AUDIT_POLL_MS: '1000', ...env },
      stdio: 'inherit',
    });
  } catch (error) {
    await removeDb();
    throw error;
  }
  const stopStack = stack.stop;
  return Object.assign(stack, {
    token: await signDevToken({ sub: 'bench-operator', scope: ALL_SCOPES }),
    dbPid: db?.process.pid,
    stop: async () => {
      await stopStack();
      await removeDb();
    },
  });
}

/** The stack's processes by name (the database as `ferretdb`), for CPU snapshots. */
export function stackPids(stack: BenchStack): Record<string, number | undefined> {
  return { ferretdb: stack.dbPid, ...Object.fromEntries([...stack.processes].map(([name, child]) => [name, child.pid])) };
}

/** Each subgraph's `paygraph_db_commands_total` for its own database, read from its /metrics. */
export async function dbCommands(subgraphUrls: Record<SubgraphName, string>, dbPrefix: string): Promise<Record<SubgraphName, number>> {
  const entries = await Promise.all(
    SUBGRAPH_NAMES.map(async (name) => {
      const text = await (await fetch(subgraphUrls[name].replace(/\/graphql$/, '/metrics'))).text();
      return [name, sumDbCommands(text, `${dbPrefix}${name}`)] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<SubgraphName, number>;
}

/** A customer with ENHANCED KYC and one funded USD account; returns the account id. */
export async function fundedAccount(url: string, token: string, name: string, deposit: string): Promise<string> {
  const { createCustomer } = await graphqlData(url, 'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', { i: { name, email: `${name.replace(/\W+/g, '.').toLowerCase()}@example.com`, country: 'US' } }, token);
  await graphqlData(url, 'mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } }, token);
  const { openAccount } = await graphqlData(url, 'mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } }, token);
  await graphqlData(url, 'mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: openAccount.id, amount: { amount: deposit, currency: 'USD' }, idempotencyKey: `bench-${openAccount.id}` } }, token);
  return openAccount.id;
}

/** How long a closed loop runs: a number of tasks, or until a deadline. */
export type LoopLimit = { count: number } | { seconds: number };

/**
 * Runs tasks with `concurrency` workers, each starting its next task as soon as its last one
 * ends, until `limit` tasks have started or its seconds have passed (tasks started by then
 * finish). Returns each task's latency in ms.
 */
export async function runClosedLoop(limit: LoopLimit | number, concurrency: number, task: (index: number) => Promise<void>): Promise<number[]> {
  const bound = typeof limit === 'number' ? { count: limit } : limit;
  const deadline = 'seconds' in bound ? performance.now() + bound.seconds * 1000 : Infinity;
  const count = 'count' in bound ? bound.count : Infinity;
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count && performance.now() < deadline) {
        const index = next++;
        const started = performance.now();
        await task(index);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export { graphqlRequest };
