import { signDevToken } from '../runtime/dev-token';
import { graphqlRequest, type GraphQLResult } from '../scripts/gateway-client';
import { freePort, startTestStack, type TestStack } from './support/stack';
import { fundedCustomer, startExtraProcess } from './subscriptions-support';

/**
 * The single-fetch path (gateway/single-fetch.ts) must answer exactly as Apollo's executor
 * does. The stack's gateway has it on; a second gateway in front of the same subgraphs has
 * it off (GATEWAY_SINGLE_FETCH=false). Every request goes to both, and the two bodies must be
 * equal, errors included (less the stack traces, which name the gateway's own call sites).
 * The gateways' operation counters show which path each request took.
 */
let stack: TestStack;
let planned: { gatewayUrl: string; stop(): Promise<void> };
let accountId: string;
let customerId: string;

beforeAll(async () => {
  stack = await startTestStack();
  const port = await freePort();
  const gateway = await startExtraProcess(
    'gateway',
    {
      MONGODB_URI: stack.mongoUri,
      MONGODB_DB_PREFIX: stack.dbPrefix,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      NODE_ENV: 'test',
      ACCOUNTS_URL: stack.subgraphUrls.accounts,
      PAYMENTS_URL: stack.subgraphUrls.payments,
      RISK_URL: stack.subgraphUrls.risk,
      COMPLIANCE_URL: stack.subgraphUrls.compliance,
      GATEWAY_PORT: String(port),
      GATEWAY_SINGLE_FETCH: 'false',
      RATE_LIMIT_PER_SECOND: '100000',
      RATE_LIMIT_BURST: '100000',
    },
    `http://127.0.0.1:${port}/healthz`,
  );
  planned = { gatewayUrl: `http://127.0.0.1:${port}/graphql`, stop: gateway.stop };
  ({ accountId, customerId } = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Single Fetch'));
}, 180_000);

afterAll(async () => {
  await planned?.stop();
  await stack?.stop();
});

function withoutStackTraces(result: GraphQLResult): unknown {
  return JSON.parse(JSON.stringify(result, (key, value) => (key === 'stacktrace' ? undefined : value)));
}

async function operationsByPath(gatewayUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
  const counts: Record<string, number> = { 'single-fetch': 0, planned: 0 };
  for (const match of text.matchAll(/^paygraph_gateway_operations_total\{path="([a-z-]+)"\} (\d+)/gm)) counts[match[1]] = Number(match[2]);
  return counts;
}

/** Sends one request to both gateways: the bodies must be equal; returns the path the single-fetch gateway took. */
async function sameOnBothPaths(query: string, variables: Record<string, unknown> = {}, token: string | null = stack.operatorToken): Promise<{ path: string; result: GraphQLResult }> {
  const before = await operationsByPath(stack.gatewayUrl);
  const fast = await graphqlRequest(stack.gatewayUrl, query, variables, token ?? undefined);
  const after = await operationsByPath(stack.gatewayUrl);
  const slow = await graphqlRequest(planned.gatewayUrl, query, variables, token ?? undefined);
  expect(withoutStackTraces(fast)).toEqual(withoutStackTraces(slow));
  const path = after['single-fetch'] > before['single-fetch'] ? 'single-fetch' : after.planned > before.planned ? 'planned' : 'none';
  return { path, result: fast };
}

test('a lookup one subgraph answers takes the single fetch and answers as the planner would', async () => {
  const query = 'query Lookup($id: ID!) { account(id: $id) { id currency status customer { id name country } } }';
  const { path, result } = await sameOnBothPaths(query, { id: accountId });
  expect(path).toBe('single-fetch');
  expect(result.data).toEqual({ account: { id: accountId, currency: 'USD', status: expect.any(String), customer: { id: customerId, name: 'Single Fetch', country: 'US' } } });
});

test('aliases, __typename and skip directives survive the single fetch', async () => {
  const query = `query Aliased($id: ID!, $withCustomer: Boolean!) {
    first: account(id: $id) { __typename ref: id currency customer @include(if: $withCustomer) { name } }
    again: account(id: $id) { id }
  }`;
  for (const withCustomer of [true, false]) {
    const { result } = await sameOnBothPaths(query, { id: accountId, withCustomer });
    expect(result.data?.first.ref).toBe(accountId);
    expect('customer' in result.data!.first).toBe(withCustomer);
  }
});

test('not found, and errors: a bad variable, a missing scope and no token match the planned path', async () => {
  const lookup = 'query Lookup($id: ID!) { account(id: $id) { id currency } }';
  const missing = await sameOnBothPaths(lookup, { id: 'acc_does_not_exist' });
  expect(missing.result.data).toEqual({ account: null });
  const badVariable = await sameOnBothPaths(lookup, { id: { not: 'an id' } });
  expect(badVariable.result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  const readOnly = await signDevToken({ sub: 'single-fetch-reader', scope: 'payments:read' });
  const forbidden = await sameOnBothPaths(lookup, { id: accountId }, readOnly);
  expect(forbidden.result.errors?.length ?? 0).toBeGreaterThan(0);
  const anonymous = await sameOnBothPaths(lookup, { id: accountId }, null);
  expect(anonymous.result.errors?.length ?? 0).toBeGreaterThan(0);
  // The errors above came from the single-fetch path, not from a fallback to the planner.
  for (const answer of [missing, badVariable, forbidden, anonymous]) expect(answer.path).toBe('single-fetch');
});

test('a mutation one subgraph answers takes the single fetch, with its idempotent replay and its errors', async () => {
  const deposit = 'mutation Deposit($i: DepositFundsInput!) { depositFunds(input: $i) { id balance { amount currency } } }';
  // The same key on both gateways: the second is the idempotent replay of the first.
  const input = { accountId, amount: { amount: '12.34', currency: 'USD' }, idempotencyKey: `single-fetch-${Date.now()}` };
  const { path, result } = await sameOnBothPaths(deposit, { i: input });
  expect(path).toBe('single-fetch');
  // Deposited once (100,000.00 at the start), though asked twice.
  expect(result.data?.depositFunds.balance).toEqual({ amount: '100012.34', currency: 'USD' });
  const refused = await sameOnBothPaths(deposit, { i: { ...input, idempotencyKey: `single-fetch-bad-${Date.now()}`, amount: { amount: '1.234', currency: 'USD' } } });
  expect(refused.result.errors?.[0]?.extensions?.code).toBeDefined();
});

test('fragments and operations that span subgraphs take the planned path', async () => {
  const fragment = 'query WithFragment($id: ID!) { account(id: $id) { ...Basics } } fragment Basics on Account { id currency }';
  expect((await sameOnBothPaths(fragment, { id: accountId })).path).toBe('planned');
  const spanning = 'query Spanning($id: ID!) { account(id: $id) { id balance { amount } payments(first: 5) { edges { node { id status riskAssessment { level } } } } } }';
  expect((await sameOnBothPaths(spanning, { id: accountId })).path).toBe('planned');
});
