import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signDevToken } from '../runtime/dev-token';
import { startTestStack, type TestStack } from './support/stack';
import { errorCode, fundedCustomer, gatewayClient, latestCursorOf, pay, record, startSecondGateway } from './subscriptions-support';

/**
 * The authorization directives end to end, on the real graph: fields a token does not grant are
 * removed before planning and come back null with UNAUTHORIZED_FIELD_OR_TYPE (entity fields of
 * other subgraphs included), a non-null one nulls its parent, a second gateway in reject mode
 * refuses the whole operation, `@policy` rules come from the file the gateway was given, and
 * subscriptions are checked at subscribe and in every event.
 */
let stack: TestStack;
let rejecting: { gatewayUrl: string; stop(): Promise<void> };
let alice: { customerId: string; accountId: string };
let bob: { customerId: string; accountId: string };
let paymentId: string;
let tokens: { alice: string; auditor: string; reviewer: string };

// "staff" here needs a review scope: an auditor with payments:read alone is not staff (the committed file says it would be).
const POLICIES = { staff: { customer: false, anyScope: ['risk:review', 'compliance:review', 'ops:admin'] }, 'customer-self': { customer: true } };

beforeAll(async () => {
  const policiesFile = join(mkdtempSync(join(tmpdir(), 'paygraph-policies-')), 'policies.json');
  writeFileSync(policiesFile, JSON.stringify(POLICIES));
  stack = await startTestStack({ AUTHORIZATION_POLICIES_FILE: policiesFile });
  rejecting = await startSecondGateway(stack, {
    AUTHORIZATION_MODE: 'reject',
    AUTHORIZATION_POLICIES_FILE: policiesFile,
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
  });
  alice = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Alice Authz');
  bob = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Bob Authz');
  paymentId = (await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId)).id;
  tokens = {
    alice: await signDevToken({ sub: 'alice-authz', scope: 'accounts:read payments:read payments:write', customerId: alice.customerId }),
    auditor: await signDevToken({ sub: 'auditor-authz', scope: 'accounts:read payments:read' }),
    reviewer: await signDevToken({ sub: 'reviewer-authz', scope: 'payments:read risk:review compliance:review' }),
  };
}, 240_000);

afterAll(async () => {
  await rejecting?.stop();
  await stack?.stop();
});

const UNAUTHORIZED = 'UNAUTHORIZED_FIELD_OR_TYPE';
const codesAndPaths = (errors: { path?: unknown; extensions?: { code?: unknown } }[] | undefined) => (errors ?? []).map((e) => [e.extensions?.code, e.path]);

const PAYMENT = 'query($id: ID!) { payment(id: $id) { id status riskAssessment { level } complianceCheck { status } } }';

describe('filter mode', () => {
  test("an entity field another subgraph contributes (compliance's Payment.complianceCheck) is removed for a customer and comes back null", async () => {
    const result = await stack.graphql(PAYMENT, { id: paymentId }, tokens.alice);
    expect(result.status).toBe(200);
    // The risk subgraph's riskAssessment is granted by payments:read; complianceCheck is for staff.
    expect(result.data).toEqual({ payment: { id: paymentId, status: 'SETTLED', riskAssessment: { level: expect.any(String) }, complianceCheck: null } });
    expect(codesAndPaths(result.errors)).toEqual([[UNAUTHORIZED, ['payment', 'complianceCheck']]]);
    // The operator sees it all.
    const operator = await stack.graphql(PAYMENT, { id: paymentId });
    expect(operator.errors).toBeUndefined();
    expect(operator.data?.payment.complianceCheck).toEqual({ status: 'CLEAR' });
  });

  test('inside a list, each item gets its null and its error', async () => {
    const result = await stack.graphql('{ payments(first: 5) { edges { node { id complianceCheck { status } } } } }', {}, tokens.alice);
    const edges = result.data?.payments.edges as { node: { id: string; complianceCheck: unknown } }[];
    expect(edges.length).toBeGreaterThan(0);
    expect(edges.every((edge) => edge.node.complianceCheck === null)).toBe(true);
    expect(codesAndPaths(result.errors)).toEqual(edges.map((_, i) => [UNAUTHORIZED, ['payments', 'edges', i, 'node', 'complianceCheck']]));
  });

  test('policies come from AUTHORIZATION_POLICIES_FILE: there, staff needs a review scope', async () => {
    const auditor = await stack.graphql(PAYMENT, { id: paymentId }, tokens.auditor);
    expect(auditor.data?.payment.complianceCheck).toBeNull();
    expect(codesAndPaths(auditor.errors)).toEqual([[UNAUTHORIZED, ['payment', 'complianceCheck']]]);
    const reviewer = await stack.graphql(PAYMENT, { id: paymentId }, tokens.reviewer);
    expect(reviewer.errors).toBeUndefined();
    expect(reviewer.data?.payment.complianceCheck).toEqual({ status: 'CLEAR' });
  });

  test('a removed non-null field nulls its nearest nullable parent: here data itself', async () => {
    const queue = await stack.graphql('query($id: ID!) { payment(id: $id) { id } riskReviewQueue(first: 5) { edges { node { score } } } }', { id: paymentId }, tokens.alice);
    expect(queue.data).toBeNull();
    expect(codesAndPaths(queue.errors)).toEqual([[UNAUTHORIZED, ['riskReviewQueue']]]);
    const mutation = await stack.graphql('mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }', {
      i: { idempotencyKey: 'authz-read-only', sourceAccountId: alice.accountId, destinationAccountId: bob.accountId, amount: { amount: '1.00', currency: 'USD' } },
    }, tokens.auditor);
    expect(mutation.data).toBeNull();
    expect(codesAndPaths(mutation.errors)).toEqual([[UNAUTHORIZED, ['createPayment']]]);
  });

  test('a repeat through the fast lane gives the same bytes as the first request', async () => {
    const send = async (query: string, token: string) => {
      const response = await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables: { id: paymentId } }) });
      return `${response.status} ${await response.text()}`;
    };
    const lanes = async () => {
      const text = await (await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
      return Number(/paygraph_gateway_operations_total\{path="fast-lane"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const ALLOWED = 'query Lane($id: ID!) { payment(id: $id) { id riskAssessment { level } } }';
    const first = await send(ALLOWED, tokens.alice);
    const before = await lanes();
    expect(await send(ALLOWED, tokens.alice)).toBe(first);
    expect(await lanes()).toBe(before + 1);
    // The same text, filtered for the customer: the lane knows it (the operator's answer had no
    // errors) but answers no result with errors; the pipeline answers it as it did the first time.
    const FILTERED = 'query LaneFiltered($id: ID!) { payment(id: $id) { id complianceCheck { status } } }';
    const filteredFirst = await send(FILTERED, tokens.alice);
    expect(filteredFirst).toContain(UNAUTHORIZED);
    expect(await send(FILTERED, stack.operatorToken)).not.toContain(UNAUTHORIZED);
    expect(await send(FILTERED, tokens.alice)).toBe(filteredFirst);
    expect(await send(FILTERED, stack.operatorToken)).not.toContain(UNAUTHORIZED);
  });
});

describe('reject mode (AUTHORIZATION_MODE=reject)', () => {
  test('an operation asking for a field the caller may not see is refused whole', async () => {
    const refused = await fetch(rejecting.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.alice}` }, body: JSON.stringify({ query: PAYMENT, variables: { id: paymentId } }) });
    const body = (await refused.json()) as { data?: unknown; errors?: { path?: unknown; extensions?: { code?: unknown } }[] };
    expect(body.data).toBeUndefined();
    expect(codesAndPaths(body.errors)).toEqual([[UNAUTHORIZED, ['payment', 'complianceCheck']]]);
    const allowed = await fetch(rejecting.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.alice}` }, body: JSON.stringify({ query: 'query($id: ID!) { payment(id: $id) { id } }', variables: { id: paymentId } }) });
    expect(await allowed.json()).toEqual({ data: { payment: { id: paymentId } } });
  });
});

describe('subscriptions', () => {
  test('a subscription whose root field is unauthorized is refused with UNAUTHORIZED_FIELD_OR_TYPE', async () => {
    const { client } = gatewayClient(stack.gatewayUrl, tokens.alice);
    const alerts = record(client, 'subscription { riskAlertRaised { id level } }');
    await alerts.waitForEnd();
    expect(errorCode(alerts.error)).toBe(UNAUTHORIZED);
    expect(alerts.events).toEqual([]);
    await client.dispose();
  });

  test('a field removed inside a subscription is null, with its error, in every event', async () => {
    const { client } = gatewayClient(stack.gatewayUrl, tokens.alice);
    const after = await latestCursorOf(stack.gatewayUrl, stack.operatorToken, alice.accountId);
    const events = record<{ paymentStatusChanged: { status: string; payment: { id: string; complianceCheck: unknown } } }>(
      client,
      'subscription($a: ID!, $after: String) { paymentStatusChanged(accountId: $a, after: $after) { status payment { id complianceCheck { status } } } }',
      { a: alice.accountId, after },
    );
    const paid = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    const received = await events.waitForEvents(2);
    expect(received.map((e) => e.paymentStatusChanged.payment)).toEqual(received.map(() => ({ id: paid.id, complianceCheck: null })));
    expect(events.results.slice(0, 2).map((r) => codesAndPaths(r.errors as never))).toEqual(received.map(() => [[UNAUTHORIZED, ['paymentStatusChanged', 'payment', 'complianceCheck']]]));
    events.stop();
    await client.dispose();
  });
});

test('a policy file that does not validate stops the gateway at start, naming the mistake', async () => {
  const bad = join(mkdtempSync(join(tmpdir(), 'paygraph-policies-')), 'policies.json');
  writeFileSync(bad, JSON.stringify({ staff: { customers: false } }));
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'gateway', 'main.ts')], {
    env: { ...process.env, GATEWAY_PORT: '0', LOG_LEVEL: 'info', LOG_FORMAT: 'json', AUTHORIZATION_POLICIES_FILE: bad },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(1);
  const fatal = output.split('\n').filter((line) => line.includes('"level":60')).map((line) => (JSON.parse(line) as { msg: string }).msg);
  expect(fatal).toEqual([`gateway failed to start: AUTHORIZATION_POLICIES_FILE ${bad}: policy "staff" has unknown key "customers" (a rule takes customer, anyScope, allScopes, anyOf)`]);
}, 60_000);
