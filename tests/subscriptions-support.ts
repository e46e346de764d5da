import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { graphqlData } from '../scripts/gateway-client';
import { startService } from '../scripts/stack';
import { freePort } from './support/stack';
import { eventually, until } from './support/wait';

export { eventually, until };

/**
 * Support for the subscription end-to-end tests: graphql-ws clients that record what they
 * receive and how their connection closed, extra gateway/payments processes for the
 * across-instance tests, and the few HTTP calls that set up customers and payments.
 */

export const FULL_EVENT = `
  subscription PaymentEvents($paymentId: ID, $accountId: ID, $after: String) {
    paymentStatusChanged(paymentId: $paymentId, accountId: $accountId, after: $after) {
      cursor
      status
      previousStatus
      payment {
        id
        status
        amount { amount currency }
        source { id customer { name kyc { tier } } }
        riskAssessment { level }
        complianceCheck { status }
      }
    }
  }`;

export interface PaymentEvent {
  cursor: string;
  status: string;
  previousStatus: string | null;
  payment: {
    id: string;
    status: string;
    amount: { amount: string; currency: string };
    source: { id: string; customer: { name: string; kyc: { tier: string } } };
    riskAssessment: { level: string } | null;
    complianceCheck: { status: string } | null;
  };
}

export interface RecordedClose {
  code: number;
  reason: string;
}

/** A graphql-ws client to the gateway that remembers how its socket closed. */
export function gatewayClient(gatewayUrl: string, token: string | undefined, extra: { lazy?: boolean } = {}): { client: Client; closes: RecordedClose[]; sockets: WebSocket[] } {
  const closes: RecordedClose[] = [];
  const sockets: WebSocket[] = [];
  const client = createClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: extra.lazy ?? true,
    on: {
      opened: (socket) => sockets.push(socket as WebSocket),
      closed: (event) => {
        const e = event as { code: number; reason: string | Buffer };
        closes.push({ code: e.code, reason: String(e.reason) });
      },
    },
  });
  return { client, closes, sockets };
}

/** One subscription's record: every `next`, the error it ended with, whether it completed. */
export interface Recording<T> {
  readonly results: FormattedExecutionResult<T, unknown>[];
  readonly events: T[];
  error?: unknown;
  completed: boolean;
  stop(): void;
  waitForEvents(count: number, timeoutMs?: number): Promise<T[]>;
  waitForEnd(timeoutMs?: number): Promise<void>;
}

/** What `record` needs of a client: graphql-ws's `Client` and graphql-sse's both have it. */
export interface SubscribingClient {
  subscribe(request: { query: string; variables?: Record<string, unknown> }, sink: { next(value: any): void; error(error: unknown): void; complete(): void }): () => void;
}

export function record<T = { paymentStatusChanged: PaymentEvent }>(client: SubscribingClient, query: string, variables: Record<string, unknown> = {}): Recording<T> {
  const recording: Recording<T> = {
    results: [],
    events: [],
    completed: false,
    stop: () => {},
    waitForEvents: async (count, timeoutMs = 60_000) => {
      await until(() => recording.events.length >= count || recording.error !== undefined, `${count} events (have ${recording.events.length})`, timeoutMs);
      if (recording.events.length < count) throw new Error(`subscription ended early after ${recording.events.length} events: ${describeEnd(recording.error)}`);
      return recording.events.slice(0, count);
    },
    waitForEnd: (timeoutMs = 30_000) => until(() => recording.completed || recording.error !== undefined, 'the subscription to end', timeoutMs),
  };
  recording.stop = client.subscribe(
    { query, variables },
    {
      next: (result: FormattedExecutionResult<T, unknown>) => {
        recording.results.push(result);
        if (result.data) recording.events.push(result.data);
      },
      error: (error) => {
        recording.error = error;
      },
      complete: () => {
        recording.completed = true;
      },
    },
  );
  return recording;
}

/** The first error code of a subscription's `error` (graphql-ws delivers an array of errors). */
export function errorCode(error: unknown): string | undefined {
  const first = Array.isArray(error) ? error[0] : error;
  return (first as { extensions?: { code?: string } } | undefined)?.extensions?.code;
}

const ROOT = join(__dirname, '..');

/** Starts one more process of the graph (a second payments subgraph or gateway) and waits until it is ready. */
export async function startExtraProcess(entry: 'payments' | 'gateway', env: Record<string, string>, readyUrl: string): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const file = entry === 'gateway' ? join(ROOT, 'gateway', 'main.ts') : join(ROOT, 'subgraphs', 'payments', 'main.ts');
  return startService(file, { ...process.env, ...env }, readyUrl);
}

/**
 * Another gateway in front of `stack`'s subgraphs, on the same database, with settings of its
 * own (`env`): a gateway without the fast lane, in reject mode, measuring costs.
 */
export async function startSecondGateway(
  stack: { mongoUri: string; dbPrefix: string; subgraphUrls: Record<string, string> },
  env: Record<string, string>,
  stdio: 'inherit' | 'pipe' = 'inherit',
): Promise<{ gatewayUrl: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const common = {
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB_PREFIX: stack.dbPrefix,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    NODE_ENV: 'test',
    SUBGRAPH_URLS: JSON.stringify(stack.subgraphUrls),
    GATEWAY_PORT: String(port),
  };
  const service = await startService(join(ROOT, 'gateway', 'main.ts'), { ...process.env, ...common, ...env }, `http://127.0.0.1:${port}/healthz`, stdio);
  return { gatewayUrl: `http://127.0.0.1:${port}/graphql`, ...service };
}

let customers = 0;

/** A customer with a KYC tier and one funded USD account, made over HTTP through the gateway. */
export async function fundedCustomer(gatewayUrl: string, token: string, name: string, deposit = '100000.00'): Promise<{ customerId: string; accountId: string }> {
  customers += 1;
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${customers}.${Date.now()}@example.com`;
  const { createCustomer } = await graphqlData(gatewayUrl, 'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', { i: { name, email, country: 'US' } }, token);
  await graphqlData(gatewayUrl, 'mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'VERIFIED' } }, token);
  const { openAccount } = await graphqlData(gatewayUrl, 'mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } }, token);
  await graphqlData(gatewayUrl, 'mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', {
    i: { accountId: openAccount.id, amount: { amount: deposit, currency: 'USD' }, idempotencyKey: `deposit-${openAccount.id}` },
  }, token);
  return { customerId: createCustomer.id, accountId: openAccount.id };
}

let payments = 0;

/** A payment between two accounts, created over HTTP; small amounts settle at once (PENDING → PROCESSING → SETTLED). */
export async function pay(gatewayUrl: string, token: string, sourceAccountId: string, destinationAccountId: string, amount = '10.00'): Promise<{ id: string; status: string }> {
  payments += 1;
  const { createPayment } = await graphqlData(gatewayUrl, 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }', {
    i: { idempotencyKey: `sub-${Date.now()}-${payments}`, sourceAccountId, destinationAccountId, amount: { amount, currency: 'USD' }, reference: `subscription test ${payments}` },
  }, token);
  return createPayment;
}

/** Reads one unlabelled gauge from a process's /metrics page. */
export async function gauge(metricsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

/**
 * A second payments process and a second gateway in front of it, on the same database and
 * event bus as `stack`: events appended by the first payments process must reach clients of
 * the second gateway through the bus.
 */
export async function startSecondInstance(
  stack: { mongoUri: string; dbPrefix: string; subgraphUrls: Record<string, string> },
  env: Record<string, string>,
  ports: { payments: number; gateway: number },
): Promise<{ gatewayUrl: string; stop(): Promise<void> }> {
  const paymentsUrl = `http://127.0.0.1:${ports.payments}/graphql`;
  const common = {
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB_PREFIX: stack.dbPrefix,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    NODE_ENV: 'test',
    ACCOUNTS_URL: stack.subgraphUrls.accounts,
    RISK_URL: stack.subgraphUrls.risk,
    COMPLIANCE_URL: stack.subgraphUrls.compliance,
    PAYMENTS_URL: paymentsUrl,
    PAYMENTS_PORT: String(ports.payments),
    SUBGRAPH_URLS: JSON.stringify({ ...stack.subgraphUrls, payments: paymentsUrl }),
    GATEWAY_PORT: String(ports.gateway),
    ...env,
  };
  const payments = await startExtraProcess('payments', common, paymentsUrl.replace(/\/graphql$/, '/readyz'));
  const gateway = await startExtraProcess('gateway', common, `http://127.0.0.1:${ports.gateway}/healthz`).catch(async (error: unknown) => {
    await payments.stop();
    throw error;
  });
  return {
    gatewayUrl: `http://127.0.0.1:${ports.gateway}/graphql`,
    stop: async () => {
      await gateway.stop();
      await payments.stop();
    },
  };
}

/**
 * The cursor of the newest event on an account (or null). Cursors are global: subscribing
 * `after` it receives exactly what happens from now on, however long the subscription takes
 * to reach the subgraph.
 */
export async function latestCursorOf(gatewayUrl: string, token: string, accountId: string): Promise<string | null> {
  const { account } = await graphqlData(gatewayUrl, 'query($id: ID!) { account(id: $id) { payments(first: 1) { edges { node { events { cursor } } } } } }', { id: accountId }, token);
  const events: { cursor: string }[] = account.payments.edges[0]?.node.events ?? [];
  return events.length ? events[events.length - 1].cursor : null;
}

/** A graphql-ws end reason in words: a close event's code and reason, an Error's message, or GraphQL errors. */
function describeEnd(error: unknown): string {
  if (error instanceof Error) return error.message;
  const close = error as { code?: number; reason?: string };
  if (typeof close?.code === 'number') return `closed ${close.code} ${close.reason ?? ''}`.trim();
  return JSON.stringify(error);
}
