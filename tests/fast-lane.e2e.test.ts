import { signDevToken } from '../runtime/dev-token';
import type { GraphQLResult } from '../scripts/gateway-client';
import { startTestStack, type TestStack } from './support/stack';
import { fundedCustomer, startSecondGateway } from './subscriptions-support';

/**
 * The fast lane (gateway/fast-lane.ts) must answer exactly as Apollo Server's pipeline does,
 * on our own graph. The stack's gateway has it on; a second gateway in front of the same
 * subgraphs has it off (GATEWAY_FAST_LANE=false). Every request goes to both, and the answers
 * must be equal: status, headers and body, errors included. The gateways' operation counters
 * show which front each request took. (tests/differential does the same on foreign graphs.)
 */
let stack: TestStack;
let withoutLane: { gatewayUrl: string; stop(): Promise<void> };
let accountId: string;
let customerId: string;

beforeAll(async () => {
  stack = await startTestStack();
  withoutLane = await startSecondGateway(stack, { GATEWAY_FAST_LANE: 'false', RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000' });
  ({ accountId, customerId } = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Fast Lane'));
}, 180_000);

afterAll(async () => {
  await withoutLane?.stop();
  await stack?.stop();
});

interface RawAnswer {
  status: number;
  /** The headers a client reads: Apollo's and ours, less the per-request id and date. */
  headers: Record<string, string>;
  body: string;
}

async function send(url: string, query: string, variables: Record<string, unknown>, token: string | null): Promise<RawAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'cache-control', 'vary']) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return { status: response.status, headers, body: await response.text() };
}

/** The body as a client reads it, less the stack traces, which name the gateway's own call sites. */
function comparable(answer: RawAnswer): unknown {
  return { ...answer, body: JSON.parse(answer.body, (key, value) => (key === 'stacktrace' ? undefined : value)) };
}

async function operationsByPath(gatewayUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
  const counts: Record<string, number> = { 'fast-lane': 0, pipeline: 0 };
  for (const match of text.matchAll(/^paygraph_gateway_operations_total\{path="([a-z-]+)"\} (\d+)/gm)) counts[match[1]] = Number(match[2]);
  return counts;
}

/** The path the stack's gateway took for the one request sent between two readings. */
function pathTaken(before: Record<string, number>, after: Record<string, number>): string {
  return Object.keys(after).find((path) => after[path] > before[path]) ?? 'none';
}

/**
 * Sends one request twice to the stack's gateway (the second may take the fast lane, which
 * learns from the first) and once to the gateway without the lane: all three answers must be equal,
 * status, headers and body, errors included. Returns the paths the two sends took.
 */
async function sameOnBothPaths(query: string, variables: Record<string, unknown> = {}, token: string | null = stack.operatorToken): Promise<{ paths: string[]; result: GraphQLResult }> {
  const paths: string[] = [];
  const answers: RawAnswer[] = [];
  for (let i = 0; i < 2; i++) {
    const before = await operationsByPath(stack.gatewayUrl);
    answers.push(await send(stack.gatewayUrl, query, variables, token));
    paths.push(pathTaken(before, await operationsByPath(stack.gatewayUrl)));
  }
  const reference = await send(withoutLane.gatewayUrl, query, variables, token);
  for (const answer of answers) expect(comparable(answer)).toEqual(comparable(reference));
  return { paths, result: { status: reference.status, ...JSON.parse(reference.body) } };
}

test('a lookup takes the pipeline, then the fast lane, and answers as the pipeline would', async () => {
  const query = 'query Lookup($id: ID!) { account(id: $id) { id currency status customer { id name country } } }';
  const counted = async () => {
    const text = await (await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
    return Number(/^paygraph_graphql_requests_total\{operation="Lookup",type="query",outcome="ok"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  const before = await counted();
  const { paths, result } = await sameOnBothPaths(query, { id: accountId });
  expect(paths).toEqual(['pipeline', 'fast-lane']);
  // The lane's answer is counted like Apollo Server's.
  expect((await counted()) - before).toBe(2);
  expect(result.data).toEqual({ account: { id: accountId, currency: 'USD', status: expect.any(String), customer: { id: customerId, name: 'Fast Lane', country: 'US' } } });
});

test('aliases, __typename and skip directives survive the fast lane', async () => {
  const query = `query Aliased($id: ID!, $withCustomer: Boolean!) {
    first: account(id: $id) { __typename ref: id currency customer @include(if: $withCustomer) { name } }
    again: account(id: $id) { id }
  }`;
  for (const withCustomer of [true, false]) {
    const { paths, result } = await sameOnBothPaths(query, { id: accountId, withCustomer });
    expect(paths[1]).toBe('fast-lane');
    expect(result.data?.first.ref).toBe(accountId);
    expect('customer' in result.data!.first).toBe(withCustomer);
  }
});

test('a variable default of the operation is honoured on every path', async () => {
  // A second ledger entry, so that the default (one entry) and an explicit two differ.
  const deposit = 'mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }';
  await sameOnBothPaths(deposit, { i: { accountId, amount: { amount: '1.00', currency: 'USD' }, idempotencyKey: `fast-lane-default-${Date.now()}` } });
  const query = 'query Ledger($id: ID!, $first: Int = 1) { account(id: $id) { id ledger(first: $first) { edges { node { id } } } } }';
  const { paths, result } = await sameOnBothPaths(query, { id: accountId });
  expect(paths[1]).toBe('fast-lane');
  expect(result.data?.account.ledger.edges).toHaveLength(1);
  const { result: two } = await sameOnBothPaths(query, { id: accountId, first: 2 });
  expect(two.data?.account.ledger.edges).toHaveLength(2);
});

test('not found, and errors: a bad variable, a missing scope and no token match the pipeline', async () => {
  const lookup = 'query Lookup($id: ID!) { account(id: $id) { id currency } }';
  const missing = await sameOnBothPaths(lookup, { id: 'acc_does_not_exist' });
  expect(missing.result.data).toEqual({ account: null });
  const badVariable = await sameOnBothPaths(lookup, { id: { not: 'an id' } });
  expect(badVariable.result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  const readOnly = await signDevToken({ sub: 'fast-lane-reader', scope: 'payments:read' });
  const forbidden = await sameOnBothPaths(lookup, { id: accountId }, readOnly);
  expect(forbidden.result.errors?.length ?? 0).toBeGreaterThan(0);
  const anonymous = await sameOnBothPaths(lookup, { id: accountId }, null);
  expect(anonymous.result.errors?.length ?? 0).toBeGreaterThan(0);
  // A query without errors (not found is null data) repeats on the fast lane; with errors,
  // the lane declines and Apollo Server's pipeline answers, twice.
  expect(missing.paths).toEqual(['pipeline', 'fast-lane']);
  for (const answer of [badVariable, forbidden, anonymous]) expect(answer.paths).toEqual(['pipeline', 'pipeline']);
});

test('a mutation takes the pipeline every time, with its idempotent replay and its errors', async () => {
  const deposit = 'mutation Deposit($i: DepositFundsInput!) { depositFunds(input: $i) { id balance { amount currency } } }';
  // The same key on both gateways: the second is the idempotent replay of the first.
  const input = { accountId, amount: { amount: '12.34', currency: 'USD' }, idempotencyKey: `fast-lane-${Date.now()}` };
  const balance = async () => {
    const { result } = await sameOnBothPaths('query Balance($id: ID!) { account(id: $id) { balance { minorUnits } } }', { id: accountId });
    return Number(result.data?.account.balance.minorUnits);
  };
  const before = await balance();
  const { paths, result } = await sameOnBothPaths(deposit, { i: input });
  // Mutations never take the fast lane.
  expect(paths).toEqual(['pipeline', 'pipeline']);
  // Deposited once, though asked three times.
  expect(result.data?.depositFunds.balance.currency).toBe('USD');
  expect((await balance()) - before).toBe(1234);
  const refused = await sameOnBothPaths(deposit, { i: { ...input, idempotencyKey: `fast-lane-bad-${Date.now()}`, amount: { amount: '1.234', currency: 'USD' } } });
  expect(refused.result.errors?.[0]?.extensions?.code).toBeDefined();
});

test('fragments and operations that span subgraphs repeat on the fast lane too', async () => {
  const fragment = 'query WithFragment($id: ID!) { account(id: $id) { ...Basics } } fragment Basics on Account { id currency }';
  expect((await sameOnBothPaths(fragment, { id: accountId })).paths).toEqual(['pipeline', 'fast-lane']);
  const spanning = 'query Spanning($id: ID!) { account(id: $id) { id balance { amount } payments(first: 5) { edges { node { id status riskAssessment { level } } } } } }';
  expect((await sameOnBothPaths(spanning, { id: accountId })).paths).toEqual(['pipeline', 'fast-lane']);
});
