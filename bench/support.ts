import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_SCOPES, signDevToken } from '../runtime/dev-token';
import { graphqlData, graphqlRequest } from '../scripts/gateway-client';
import { launchStack, type RunningStack } from '../scripts/stack';

/** Starts the whole graph on a fresh embedded database for a benchmark (or on MONGODB_URI). */
export async function startBenchStack(env: Record<string, string> = {}): Promise<RunningStack & { token: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paygraph-bench-'));
  const stack = await launchStack({
    dataDir,
    gatewayPort: 4100,
    subgraphPorts: { accounts: 4101, payments: 4102, risk: 4103, compliance: 4104 },
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', RATE_LIMIT_PER_SECOND: '1000000', RATE_LIMIT_BURST: '1000000', COMPLIANCE_AUDIT_POLL_MS: '1000', ...env },
    stdio: 'inherit',
  });
  return Object.assign(stack, { token: await signDevToken({ sub: 'bench-operator', scope: ALL_SCOPES }) });
}

/** A customer with ENHANCED KYC and one funded USD account; returns the account id. */
export async function fundedAccount(url: string, token: string, name: string, deposit: string): Promise<string> {
  const { createCustomer } = await graphqlData(url, 'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', { i: { name, email: `${name.replace(/\W+/g, '.').toLowerCase()}@example.com`, country: 'US' } }, token);
  await graphqlData(url, 'mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } }, token);
  const { openAccount } = await graphqlData(url, 'mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } }, token);
  await graphqlData(url, 'mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: openAccount.id, amount: { amount: deposit, currency: 'USD' }, idempotencyKey: `bench-${openAccount.id}` } }, token);
  return openAccount.id;
}

/** Runs `count` tasks with `concurrency` workers; returns each task's latency in ms. */
export async function runClosedLoop(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
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
