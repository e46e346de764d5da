import type { ChildProcess } from 'node:child_process';
import { stopChild } from '../scripts/stack';
import { collectLogLines } from './support/log-lines';
import { startTestStack, type TestStack } from './support/stack';
import { errorCode, fundedCustomer, gatewayClient, pay, record, startSecondGateway } from './subscriptions-support';

/**
 * Demand control end to end, over the real stack: the estimated cost against MAX_COST before
 * execution (HTTP and graphql-ws), the actual cost from the result, `extensions.cost` when the
 * client asks, the histograms on /metrics (fast lane included), and measure mode on a second
 * gateway process in front of the same subgraphs.
 */
const MAX_COST = 300;

let stack: TestStack;
let accounts: { alice: string; bob: string };
let measuring: { url: string; child: ChildProcess; logs: ReturnType<typeof collectLogLines> };

// 1 (payments) + first × (edge 1 + node 1 + source 1): 301 at first = 100.
const PAGE = 'query Page($first: Int) { payments(first: $first) { edges { node { id source { id } } } } }';
const pageCost = (first: number) => 1 + first * 3;

interface Answer {
  status: number;
  data?: any;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, any>;
}

async function post(url: string, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.operatorToken}` }, body: JSON.stringify(body) });
  return { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) };
}

/** A histogram's sample count for one kind and operation on a gateway's /metrics page. */
async function costSamples(graphqlUrl: string, kind: 'estimated' | 'actual', operation: string): Promise<number> {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
  const prefix = `paygraph_operation_cost_count{kind="${kind}",operation="${operation}"} `;
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(prefix.length)) : 0;
}

async function counter(graphqlUrl: string, series: string): Promise<number> {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

beforeAll(async () => {
  stack = await startTestStack({ MAX_COST: String(MAX_COST) });
  const alice = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Alice Demand');
  const bob = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Bob Demand');
  await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
  accounts = { alice: alice.accountId, bob: bob.accountId };

  const gateway = await startSecondGateway(stack, { LOG_LEVEL: 'warn', LOG_FORMAT: 'json', MAX_COST: String(MAX_COST), DEMAND_CONTROL_MODE: 'measure' }, 'pipe');
  const logs = collectLogLines(gateway.child.stdout);
  gateway.child.stderr?.resume();
  measuring = { url: gateway.gatewayUrl, child: gateway.child, logs };
}, 240_000);

afterAll(async () => {
  if (measuring) await stopChild(measuring.child);
  await stack?.stop();
});

test('an operation over MAX_COST is refused before execution, with its estimated cost and the limit', async () => {
  const refused = await post(stack.gatewayUrl, { query: PAGE, variables: { first: 100 } });
  expect(refused.data).toBeUndefined();
  expect(refused.errors).toHaveLength(1);
  expect(refused.errors![0].extensions).toMatchObject({ code: 'OPERATION_NOT_ALLOWED', estimatedCost: pageCost(100), maxCost: MAX_COST });
  expect(refused.status).toBeLessThan(500);
  // One below the limit runs.
  const allowed = await post(stack.gatewayUrl, { query: PAGE, variables: { first: 99 } });
  expect(allowed.errors).toBeUndefined();
  expect(allowed.data.payments.edges.length).toBeGreaterThan(0);
});

test('a client that asks gets the estimated and actual cost in extensions.cost', async () => {
  const answer = await post(stack.gatewayUrl, { query: PAGE, variables: { first: 5 }, extensions: { cost: true } });
  expect(answer.errors).toBeUndefined();
  const returned = answer.data.payments.edges.length as number;
  expect(returned).toBe(1); // the one payment of beforeAll
  // actual: the same rule over what came back, 1 + 1 × 3
  expect(answer.extensions?.cost).toEqual({ estimated: pageCost(5), actual: pageCost(returned), limit: MAX_COST, mode: 'enforce' });
  const unasked = await post(stack.gatewayUrl, { query: PAGE, variables: { first: 5 } });
  expect(unasked.extensions?.cost).toBeUndefined();
  // A refused operation tells its estimate too, when asked.
  const refused = await post(stack.gatewayUrl, { query: PAGE, variables: { first: 200 }, extensions: { cost: true } });
  expect(refused.extensions?.cost).toEqual({ estimated: pageCost(200), limit: MAX_COST, mode: 'enforce' });
});

test('a mutation costs 10 more, and its weighted field its @cost', async () => {
  const answer = await post(stack.gatewayUrl, {
    query: 'mutation Pay($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }',
    variables: { i: { idempotencyKey: `demand-${Date.now()}`, sourceAccountId: accounts.alice, destinationAccountId: accounts.bob, amount: { amount: '1.00', currency: 'USD' } } },
    extensions: { cost: true },
  });
  expect(answer.errors).toBeUndefined();
  // 10 + createPayment's @cost 20 + its input object 1 + the amount's input object 1
  expect(answer.extensions?.cost).toMatchObject({ estimated: 32, actual: 32 });
});

test('estimated and actual costs are histograms per operation on /metrics, fast-lane repeats included', async () => {
  const query = 'query CostedRepeat { payments(first: 3) { edges { node { id } } } }';
  const before = {
    estimated: await costSamples(stack.gatewayUrl, 'estimated', 'CostedRepeat'),
    actual: await costSamples(stack.gatewayUrl, 'actual', 'CostedRepeat'),
    lane: await counter(stack.gatewayUrl, 'paygraph_gateway_operations_total{path="fast-lane"}'),
  };
  for (let i = 0; i < 3; i++) expect((await post(stack.gatewayUrl, { query })).errors).toBeUndefined();
  expect(await costSamples(stack.gatewayUrl, 'estimated', 'CostedRepeat')).toBe(before.estimated + 3);
  expect(await costSamples(stack.gatewayUrl, 'actual', 'CostedRepeat')).toBe(before.actual + 3);
  // The repeats went through the fast lane, and were counted once each.
  expect(await counter(stack.gatewayUrl, 'paygraph_gateway_operations_total{path="fast-lane"}')).toBe(before.lane + 2);

  // A refusal is an estimate without an actual, counted once even when a repeat of a learned document meets it on the lane.
  const refusedBefore = await costSamples(stack.gatewayUrl, 'estimated', 'Page');
  const actualBefore = await costSamples(stack.gatewayUrl, 'actual', 'Page');
  await post(stack.gatewayUrl, { query: PAGE, variables: { first: 1000 } });
  expect(await costSamples(stack.gatewayUrl, 'estimated', 'Page')).toBe(refusedBefore + 1);
  expect(await costSamples(stack.gatewayUrl, 'actual', 'Page')).toBe(actualBefore);
});

test('measure mode runs an operation over the limit and logs that enforce mode would refuse it', async () => {
  const answer = await post(measuring.url, { query: PAGE, variables: { first: 100 }, extensions: { cost: true } });
  expect(answer.errors).toBeUndefined();
  const returned = answer.data.payments.edges.length as number;
  expect(returned).toBe(2); // beforeAll's payment and the mutation test's
  expect(answer.extensions?.cost).toEqual({ estimated: pageCost(100), actual: pageCost(returned), limit: MAX_COST, mode: 'measure' });
  const line = await waitForLog(() => measuring.logs.lines.find((l) => l.msg === 'demand control (measure mode): operation would be refused'));
  expect(line).toMatchObject({ operation: 'Page', estimatedCost: pageCost(100), code: 'OPERATION_NOT_ALLOWED' });
  expect(await costSamples(measuring.url, 'actual', 'Page')).toBe(1);
});

// paymentStatusChanged 1 + payment 1 + source 1 + ledger 1 + 100 × (edge 1 + node 1 + amount 1) = 304
const COSTLY_SUBSCRIPTION = 'subscription Costly { paymentStatusChanged { payment { source { ledger(first: 100) { edges { node { id amount { amount } } } } } } } }';

test('a subscription over the limit is refused at subscribe time; one under it starts', async () => {
  const { client } = gatewayClient(stack.gatewayUrl, stack.operatorToken);
  try {
    const refused = record(client, COSTLY_SUBSCRIPTION);
    await refused.waitForEnd();
    expect(errorCode(refused.error)).toBe('OPERATION_NOT_ALLOWED');
    expect((refused.error as { extensions: unknown }[])[0].extensions).toMatchObject({ estimatedCost: 304, maxCost: MAX_COST });
    expect(await costSamples(stack.gatewayUrl, 'estimated', 'Costly')).toBe(1);

    const cheap = record(client, COSTLY_SUBSCRIPTION.replace('Costly', 'Cheap').replace('first: 100', 'first: 10'));
    // Nothing ends it: it is running (no error within a while we wait for its estimate to be recorded).
    await waitForLog(async () => ((await costSamples(stack.gatewayUrl, 'estimated', 'Cheap')) === 1 ? true : undefined));
    expect(cheap.error).toBeUndefined();
    cheap.stop();
  } finally {
    await client.dispose();
  }
});

async function waitForLog<T>(find: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
