import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { SUBGRAPH_NAMES, type SubgraphName } from '../runtime/config';
import { ALL_SCOPES, signDevToken } from '../runtime/dev-token';
import { graphqlData } from '../scripts/gateway-client';
import { launchStack } from '../scripts/stack';
import { freePort } from '../tests/support/stack';

/**
 * Subscription benchmark: SUBSCRIBERS graphql-ws clients (one connection each) on one
 * gateway, all following one account while payments on it produce EVENTS_PER_SECOND status
 * changes. Prints event-to-client latency (from the event's occurredAt to receipt, p50/p99)
 * and the gateway's resident memory per subscriber.
 *
 *   npx tsx bench/subscriptions.ts            (env SUBSCRIBERS=1000 EVENTS_PER_SECOND=10 SECONDS=20)
 */
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const EVENTS_PER_SECOND = Number(process.env.EVENTS_PER_SECOND ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 20);
const EVENTS_PER_PAYMENT = 3; // PENDING, PROCESSING, SETTLED

/** What every subscriber follows: status changes of one account's payments, each payment resolved across the graph. */
export const SUBSCRIPTION_QUERY = `subscription($a: ID, $after: String) {
  paymentStatusChanged(accountId: $a, after: $after) {
    cursor status occurredAt
    payment { id status amount { amount currency } source { customer { name kyc { tier } } } riskAssessment { level } complianceCheck { status } }
  }
}`;

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads one unlabelled gauge from the gateway's /metrics. */
export async function gatewayGauge(gatewayUrl: string, name: string): Promise<number> {
  const text = await (await fetch(gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

/** Waits until the gateway holds `count` client subscriptions. */
export async function untilSubscribed(gatewayUrl: string, count: number): Promise<void> {
  await until(async () => (await gatewayGauge(gatewayUrl, 'paygraph_gateway_client_subscriptions')) >= count, `${count} subscriptions at the gateway`);
}

export interface Subscribers {
  /** Each delivery's latency in ms, from the event's occurredAt to its receipt. */
  readonly latencies: number[];
  received(): number;
  failures(): number;
  dispose(): Promise<void>;
}

/** `count` graphql-ws clients, one connection each, following `accountId` (from `after`, or from now). */
export function subscribeToAccount(gatewayUrl: string, token: string, accountId: string, count: number, after?: string): Subscribers {
  const latencies: number[] = [];
  let received = 0;
  let failures = 0;
  const clients: Client[] = [];
  for (let i = 0; i < count; i++) {
    const client = createClient({ url: gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
    clients.push(client);
    client.subscribe<{ paymentStatusChanged: { occurredAt: string } }>({ query: SUBSCRIPTION_QUERY, variables: { a: accountId, after } }, {
      next: (result) => {
        const at = result.data?.paymentStatusChanged.occurredAt;
        if (!at) return;
        received += 1;
        latencies.push(Date.now() - Date.parse(at));
      },
      error: () => (failures += 1),
      complete: () => {},
    });
  }
  return {
    latencies,
    received: () => received,
    failures: () => failures,
    dispose: async () => {
      await Promise.all(clients.map((c) => c.dispose()));
    },
  };
}

async function main(): Promise<void> {
  const dataDir = process.env.MONGODB_URI ? undefined : mkdtempSync(join(tmpdir(), 'paygraph-bench-'));
  const subgraphPorts = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphPorts[name] = await freePort();
  const stack = await launchStack({
    mongoUri: process.env.MONGODB_URI,
    dataDir,
    gatewayPort: await freePort(),
    subgraphPorts,
    env: { MONGODB_DB_PREFIX: `bench${Date.now()}_`, LOG_LEVEL: 'error', RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000' },
    stdio: 'inherit',
  });
  const clients: Subscribers[] = [];
  try {
    const token = await signDevToken({ sub: 'bench', scope: ALL_SCOPES });
    const url = stack.gatewayUrl;
    const customer = async (name: string) => {
      const { createCustomer } = await graphqlData(url, 'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', { i: { name, email: `${name.replace(/\W/g, '')}@example.com`, country: 'US' } }, token);
      await graphqlData(url, 'mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'VERIFIED' } }, token);
      const { openAccount } = await graphqlData(url, 'mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } }, token);
      await graphqlData(url, 'mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: openAccount.id, amount: { amount: '1000000.00', currency: 'USD' }, idempotencyKey: `d-${openAccount.id}` } }, token);
      return openAccount.id as string;
    };
    const source = await customer('Bench Source');
    const destination = await customer('Bench Destination');
    let paymentNumber = 0;
    const pay = () =>
      graphqlData(url, 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }', {
        i: { idempotencyKey: `bench-${++paymentNumber}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '1.00', currency: 'USD' } },
      }, token);
    await pay();
    const { account } = await graphqlData(url, 'query($id: ID!) { account(id: $id) { payments(first: 1) { edges { node { events { cursor } } } } } }', { id: source }, token);
    const events: { cursor: string }[] = account.payments.edges[0].node.events;
    const after = events[events.length - 1].cursor;

    const gatewayPid = stack.processes.get('gateway')!.pid!;
    const gauge = (name: string) => gatewayGauge(url, name);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssBefore = rssBytes(gatewayPid);

    const subscribers = subscribeToAccount(url, token, source, SUBSCRIBERS, after);
    clients.push(subscribers);
    await untilSubscribed(url, SUBSCRIBERS);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const rssSubscribed = rssBytes(gatewayPid);
    const upstreams = await gauge('paygraph_gateway_upstream_subscriptions');

    const paymentsPerSecond = EVENTS_PER_SECOND / EVENTS_PER_PAYMENT;
    const totalPayments = Math.round(paymentsPerSecond * SECONDS);
    const started = Date.now();
    let peakRss = rssSubscribed;
    const paymentErrors: string[] = [];
    for (let i = 0; i < totalPayments; i++) {
      const due = started + (i * 1000) / paymentsPerSecond;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      pay().catch((error: Error) => paymentErrors.push(error.message.slice(0, 160)));
      peakRss = Math.max(peakRss, rssBytes(gatewayPid));
    }
    // A payment that failed mid-saga produces fewer events: count what the log holds instead.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const expected = (totalPayments - paymentErrors.length) * EVENTS_PER_PAYMENT * SUBSCRIBERS;
    await until(() => subscribers.received() >= expected || subscribers.failures() > 0, `${expected} deliveries (have ${subscribers.received()})`, 120_000).catch((e: Error) => console.error(e.message));
    const elapsed = (Date.now() - started) / 1000;
    const latencies = [...subscribers.latencies].sort((a, b) => a - b);
    const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log('\nsubscription benchmark');
    console.log(`  subscribers              ${SUBSCRIBERS} (one graphql-ws connection each), upstream subscriptions: ${upstreams}`);
    console.log(`  events                   ${totalPayments * EVENTS_PER_PAYMENT} in ${elapsed.toFixed(1)} s (target ${EVENTS_PER_SECOND}/s), deliveries ${subscribers.received()}/${expected}, failures ${subscribers.failures()}`);
    if (paymentErrors.length) console.log(`  payments that failed     ${paymentErrors.length}: ${paymentErrors[0]}`);
    console.log(`  event-to-client latency  p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${latencies[latencies.length - 1]} ms`);
    console.log(`  gateway RSS              ${mib(rssBefore)} MiB idle, ${mib(rssSubscribed)} MiB with subscribers, ${mib(peakRss)} MiB peak under events`);
    console.log(`  memory per subscriber    ${((rssSubscribed - rssBefore) / SUBSCRIBERS / 1024).toFixed(1)} KiB`);
  } finally {
    await Promise.all(clients.map((c) => c.dispose()));
    await stack.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

// Run as a script; imported (bench/payments.ts --with-subscriptions), only its functions.
if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
