import { SignJWT } from 'jose';
import { internalSigningSecret } from '../runtime/config';
import { DEV_JWT_SECRET, signDevToken } from '../runtime/dev-token';
import { signRequest } from '../runtime/signing';
import { databaseFingerprint } from './support/db-fingerprint';
import { startTestStack, type TestStack } from './support/stack';

/**
 * Security end to end: tenant isolation with customer A's token against customer B's data on
 * every path, and the hostile-input suite — every request is refused with its expected code,
 * nothing in any database changes, and the gateway still answers its health check.
 */
let stack: TestStack;
let ids: { alice: string; bob: string; aliceUsd: string; bobUsd: string; alicePayment: string; bobPayment: string };
let tokens: { alice: string; bob: string; readOnly: string };

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

beforeAll(async () => {
  stack = await startTestStack();
  const customer = async (name: string, email: string) => {
    const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', { i: { name, email, country: 'US' } });
    await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } });
    return createCustomer.id as string;
  };
  const account = async (customerId: string) => {
    const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId, currency: 'USD' } });
    await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: openAccount.id, amount: { amount: '500.00', currency: 'USD' }, idempotencyKey: `fund-${openAccount.id}` } });
    return openAccount.id as string;
  };
  const alice = await customer('Alice Tenant', 'alice.tenant@example.com');
  const bob = await customer('Bob Tenant', 'bob.tenant@example.com');
  const aliceUsd = await account(alice);
  const bobUsd = await account(bob);
  tokens = {
    alice: await signDevToken({ sub: 'alice-user', scope: 'accounts:read accounts:write payments:read payments:write', customerId: alice }),
    bob: await signDevToken({ sub: 'bob-user', scope: 'accounts:read accounts:write payments:read payments:write', customerId: bob }),
    readOnly: await signDevToken({ sub: 'auditor', scope: 'accounts:read payments:read' }),
  };
  const payment = async (key: string, source: string, destination: string, token: string) => {
    const { createPayment } = await data('mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }', { i: { idempotencyKey: key, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '10.00', currency: 'USD' } } }, token);
    return createPayment.id as string;
  };
  const alicePayment = await payment('a-1', aliceUsd, bobUsd, tokens.alice);
  // Bob's own payment to a third party, which Alice must never see.
  const carol = await account(await customer('Carol Third', 'carol@example.com'));
  const bobPayment = await payment('b-1', bobUsd, carol, tokens.bob);
  ids = { alice, bob, aliceUsd, bobUsd, alicePayment, bobPayment };
  await waitUntilDatabasesSettle();
}, 240_000);

/** Background work (the audit trail follows the event log) must be done before we compare. */
async function waitUntilDatabasesSettle(): Promise<void> {
  let previous = '';
  for (let attempt = 0; attempt < 60; attempt++) {
    const current = JSON.stringify(await databaseFingerprint(stack.mongoUri, stack.dbPrefix));
    if (current === previous) return;
    previous = current;
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  throw new Error('databases kept changing');
}

afterAll(async () => {
  await stack?.stop();
});

describe('tenant isolation: customer A against customer B', () => {
  test('root fields return nothing of B', async () => {
    const result = await data(
      'query($c: ID!, $a: ID!, $p: ID!) { customer(id: $c) { id } account(id: $a) { id } payment(id: $p) { id } }',
      { c: ids.bob, a: ids.bobUsd, p: ids.bobPayment },
      tokens.alice,
    );
    expect(result).toEqual({ customer: null, account: null, payment: null });
  });

  test('lists show only A’s payments', async () => {
    const { payments } = await data('{ payments(first: 100) { edges { node { id } } } }', {}, tokens.alice);
    const seen = payments.edges.map((edge: { node: { id: string } }) => edge.node.id);
    expect(seen).toContain(ids.alicePayment);
    expect(seen).not.toContain(ids.bobPayment);
    const filtered = await stack.graphql('query($a: ID!) { payments(filter: { accountId: $a }, first: 10) { edges { node { id } } } }', { a: ids.bobUsd }, tokens.alice);
    const leaked = (filtered.data?.payments?.edges ?? []).map((edge: { node: { id: string } }) => edge.node.id);
    expect(leaked).not.toContain(ids.bobPayment);
  });

  test('entity references from other subgraphs do not reveal B', async () => {
    // Alice paid Bob: the destination account is Bob's. Alice sees the payment, never Bob's customer or balance.
    const result = await stack.graphql(
      'query($p: ID!) { payment(id: $p) { id destination { id balance { amount } customer { name email } } } }',
      { p: ids.alicePayment },
      tokens.alice,
    );
    const destination = result.data?.payment?.destination;
    expect(JSON.stringify(destination ?? null)).not.toContain('Bob Tenant');
    expect(JSON.stringify(destination ?? null)).not.toContain('bob.tenant@example.com');
    expect(JSON.stringify(destination ?? null)).not.toContain('500.00');
  });

  test('A cannot move B’s money', async () => {
    const result = await stack.graphql(
      'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }',
      { i: { idempotencyKey: 'steal-1', sourceAccountId: ids.bobUsd, destinationAccountId: ids.aliceUsd, amount: { amount: '1.00', currency: 'USD' } } },
      tokens.alice,
    );
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(result.errors?.[0]?.extensions?.code);
  });
});

type Hostile = [label: string, send: () => Promise<{ status: number; code?: string }>, expected: string];

function gql(query: string, variables: Record<string, unknown> = {}, token?: string | null) {
  return async () => {
    const result = await stack.graphql(query, variables, token === undefined ? stack.operatorToken : token);
    return { status: result.status, code: result.errors?.[0]?.extensions?.code };
  };
}

function raw(body: string, headers: Record<string, string>, method = 'POST', url?: string) {
  return async () => {
    const response = await fetch(url ?? stack.gatewayUrl, { method, headers, body: method === 'GET' ? undefined : body });
    const text = await response.text();
    let code: string | undefined;
    try {
      code = JSON.parse(text).errors?.[0]?.extensions?.code;
    } catch {
      code = undefined;
    }
    return { status: response.status, code };
  };
}

const deposit = (amount: unknown, currency: unknown = 'USD') =>
  gql('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: ids.aliceUsd, amount: { amount, currency }, idempotencyKey: `hostile-${Math.random()}` } });
const createPayment = (input: Record<string, unknown>, token?: string) =>
  gql('mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }', {
    i: { idempotencyKey: `hostile-${Math.random()}`, sourceAccountId: ids.aliceUsd, destinationAccountId: ids.bobUsd, amount: { amount: '1.00', currency: 'USD' }, ...input },
  }, token);

function nested(depth: number): string {
  let selection = 'id';
  for (let i = 0; i < depth; i++) selection = i % 2 === 0 ? `customer { accounts { ${selection} } }` : `id ${selection}`;
  return `query($a: ID!) { account(id: $a) { ${selection} } }`;
}

async function expiredToken() {
  return new SignJWT({ scope: 'ops:admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('paygraph-dev').setAudience('paygraph')
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(new TextEncoder().encode(DEV_JWT_SECRET));
}

function subgraphCall(headers: Record<string, string>) {
  return raw(JSON.stringify({ query: '{ customer(id: "x") { id } }' }), { 'content-type': 'application/json', ...headers }, 'POST', stack.subgraphUrls.accounts);
}

const HOSTILE: Hostile[] = [
  ['depth bomb', () => gql(nested(30), { a: ids.aliceUsd })(), 'OPERATION_NOT_ALLOWED'],
  ['alias bomb', gql(`{ ${Array.from({ length: 60 }, (_, i) => `a${i}: customer(id: "cus_${i}") { id }`).join(' ')} }`), 'OPERATION_NOT_ALLOWED'],
  ['fragment cycle', gql('query { account(id: "x") { ...A } } fragment A on Account { customer { accounts { ...B } } } fragment B on Account { ...A }'), 'BAD_USER_INPUT'],
  ['token bomb', gql(`{ ${'__typename '.repeat(5000)}}`), 'OPERATION_NOT_ALLOWED'],
  ['directive bomb', gql(`{ __typename ${'@include(if: true) '.repeat(200)}}`), 'OPERATION_NOT_ALLOWED'],
  ['cost bomb', gql(`{ payments(first: 100) { edges { node { events { payment { events { payment { events { payment { source { ledger(first: 100) { edges { node { id amount { amount } balanceAfter { amount } } } } } } } } } } } } } } }`), 'OPERATION_NOT_ALLOWED'],
  ['huge string', () => gql('query($id: ID!) { customer(id: $id) { id } }', { id: 'x'.repeat(300_000) })(), 'LIMIT_EXCEEDED'],
  ['huge list', gql('query($s: [PaymentStatus!]) { payments(filter: { status: $s }) { edges { cursor } } }', { s: Array(30_000).fill('SETTLED') }), 'LIMIT_EXCEEDED'],
  ['invalid JSON', raw('{"query": "{ __typename }"', { 'content-type': 'application/json' }), 'BAD_USER_INPUT'],
  ['JSON that is not an object', raw('"{ __typename }"', { 'content-type': 'application/json' }), 'BAD_USER_INPUT'],
  ['wrong content type', raw('{ __typename }', { 'content-type': 'text/plain' }), 'BAD_USER_INPUT'],
  ['batched request', raw(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]), { 'content-type': 'application/json' }), 'OPERATION_NOT_ALLOWED'],
  ['query is not a string', raw(JSON.stringify({ query: { $gt: '' } }), { 'content-type': 'application/json' }), 'BAD_USER_INPUT'],
  ['GET mutation', () => raw('', { 'apollo-require-preflight': 'true' }, 'GET', `${stack.gatewayUrl}?query=${encodeURIComponent('mutation { cancelPayment(id: "x") { id } }')}`)(), 'BAD_USER_INPUT'],
  ['syntax error', gql('{ customer(id: "x") { id '), 'BAD_USER_INPUT'],
  ['unknown field', gql('{ customer(id: "x") { password } }'), 'BAD_USER_INPUT'],
  ['negative amount', () => deposit('-5.00')(), 'BAD_USER_INPUT'],
  ['zero amount', () => deposit('0.00')(), 'BAD_USER_INPUT'],
  ['zero without decimals', () => deposit('0')(), 'BAD_USER_INPUT'],
  ['thousands separator', () => deposit('1,000.00')(), 'BAD_USER_INPUT'],
  ['exponent', () => deposit('1e3')(), 'BAD_USER_INPUT'],
  ['letters', () => deposit('ten')(), 'BAD_USER_INPUT'],
  ['blank amount', () => deposit('')(), 'BAD_USER_INPUT'],
  ['padded amount', () => deposit(' 1.00')(), 'BAD_USER_INPUT'],
  ['plus sign', () => deposit('+1.00')(), 'BAD_USER_INPUT'],
  ['overflowing amount', () => deposit('92233720368547758.08')(), 'BAD_USER_INPUT'],
  ['absurd amount', () => deposit('9'.repeat(400))(), 'BAD_USER_INPUT'],
  ['too many decimals for USD', () => deposit('10.001')(), 'BAD_USER_INPUT'],
  ['amount as a JSON number', () => deposit(10.5)(), 'BAD_USER_INPUT'],
  ['unknown currency', () => deposit('10.00', 'XXX')(), 'BAD_USER_INPUT'],
  ['lower-case currency', () => deposit('10.00', 'usd')(), 'BAD_USER_INPUT'],
  ['currency not of the account', () => deposit('10.00', 'EUR')(), 'BAD_USER_INPUT'],
  ['operator object as id', () => gql('query($id: ID!) { customer(id: $id) { id } }', { id: { $gt: '' } })(), 'BAD_USER_INPUT'],
  ['$where object as id', () => gql('query($id: ID!) { account(id: $id) { id } }', { id: { $where: 'sleep(1000)' } })(), 'BAD_USER_INPUT'],
  ['operator object in filter', () => gql('query($f: PaymentFilter) { payments(filter: $f) { edges { cursor } } }', { f: { accountId: { $ne: null } } })(), 'BAD_USER_INPUT'],
  ['operator object in status filter', () => gql('query($f: PaymentFilter) { payments(filter: $f) { edges { cursor } } }', { f: { status: [{ $gt: '' }] } })(), 'BAD_USER_INPUT'],
  ['operator object as idempotency key', () => createPayment({ idempotencyKey: { $ne: null } })(), 'BAD_USER_INPUT'],
  ['operator object as amount', () => createPayment({ amount: { amount: { $gt: '0' }, currency: 'USD' } })(), 'BAD_USER_INPUT'],
  ['operator string as cursor', () => gql('{ payments(first: 5, after: "{\\"$gt\\": \\"\\"}") { edges { cursor } } }')(), 'BAD_USER_INPUT'],
  // Demand control multiplies the page by `first` (@listSize): 100,000 is too costly before it is too large.
  ['first too large', gql('{ payments(first: 100000) { edges { cursor } } }'), 'OPERATION_NOT_ALLOWED'],
  ['first above the page size', gql('{ payments(first: 101) { edges { cursor } } }'), 'BAD_USER_INPUT'],
  ['first zero', gql('{ payments(first: 0) { edges { cursor } } }'), 'BAD_USER_INPUT'],
  ['first negative', gql('{ payments(first: -1) { edges { cursor } } }'), 'BAD_USER_INPUT'],
  ['malformed cursor', gql('{ payments(first: 5, after: "not-a-cursor") { edges { cursor } } }'), 'BAD_USER_INPUT'],
  ['payment to the same account', () => createPayment({ destinationAccountId: ids.aliceUsd })(), 'BAD_USER_INPUT'],
  ['payment with negative amount', () => createPayment({ amount: { amount: '-1.00', currency: 'USD' } })(), 'BAD_USER_INPUT'],
  ['payment in the wrong currency', () => createPayment({ amount: { amount: '1.00', currency: 'EUR' } })(), 'BAD_USER_INPUT'],
  ['payment without destination', () => createPayment({ destinationAccountId: null })(), 'BAD_USER_INPUT'],
  ['invalid email', gql('mutation { createCustomer(input: { name: "Eve", email: "not-an-email", country: "US" }) { id } }'), 'BAD_USER_INPUT'],
  ['unknown country', gql('mutation { createCustomer(input: { name: "Eve", email: "eve@example.com", country: "XX" }) { id } }'), 'BAD_USER_INPUT'],
  ['huge name', () => gql('mutation($n: String!) { createCustomer(input: { name: $n, email: "eve@example.com", country: "US" }) { id } }', { n: 'E'.repeat(5000) })(), 'BAD_USER_INPUT'],
  // No token is the anonymous caller, who holds no scope: the gateway removes the scoped field (as Apollo Router does).
  ['no token for a mutation', () => gql('mutation { createCustomer(input: { name: "Eve", email: "eve@example.com", country: "US" }) { id } }', {}, null)(), 'UNAUTHORIZED_FIELD_OR_TYPE'],
  ['expired token', async () => gql('{ __typename }', {}, await expiredToken())(), 'UNAUTHENTICATED'],
  ['token signed with another secret', async () => {
    const token = await new SignJWT({ scope: 'ops:admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('paygraph-dev').setAudience('paygraph').setExpirationTime('1h').sign(new TextEncoder().encode('not-the-secret-not-the-secret-123'));
    return gql('{ __typename }', {}, token)();
  }, 'UNAUTHENTICATED'],
  ['unsigned alg-none token', () => gql('{ __typename }', {}, `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', scope: 'ops:admin', iss: 'paygraph-dev', aud: 'paygraph', exp: 9e9 })).toString('base64url')}.`)(), 'UNAUTHENTICATED'],
  ['garbage token', gql('{ __typename }', {}, 'garbage'), 'UNAUTHENTICATED'],
  // The gateway removes a root field the token's scopes do not grant (@requiresScopes) before it plans.
  ['missing scope', () => createPayment({}, tokens.readOnly)(), 'UNAUTHORIZED_FIELD_OR_TYPE'],
  ['no token for a scoped query', gql('{ riskReviewQueue(first: 1) { edges { cursor } } }', {}, null), 'UNAUTHORIZED_FIELD_OR_TYPE'],
  ['customer deposits money into existence', () => gql('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: ids.aliceUsd, amount: { amount: '1000.00', currency: 'USD' }, idempotencyKey: 'mint' } }, tokens.alice)(), 'FORBIDDEN'],
  ['customer creates a customer', () => gql('mutation { createCustomer(input: { name: "Eve", email: "eve@example.com", country: "US" }) { id } }', {}, tokens.alice)(), 'FORBIDDEN'],
  ['idempotency key reused for another request', () => createPayment({ idempotencyKey: 'a-1', amount: { amount: '99.00', currency: 'USD' } }, tokens.alice)(), 'IDEMPOTENCY_KEY_REUSED'],
  ['cancel a settled payment', () => gql('mutation($id: ID!) { cancelPayment(id: $id) { id } }', { id: ids.alicePayment })(), 'INVALID_STATE_TRANSITION'],
  ['refund more than was paid', () => gql('mutation($i: RefundPaymentInput!) { refundPayment(input: $i) { id } }', { i: { paymentId: ids.alicePayment, amount: { amount: '10.01', currency: 'USD' }, idempotencyKey: 'too-much' } })(), 'BAD_USER_INPUT'],
  ['subgraph called without a signature', () => subgraphCall({})(), 'UNAUTHENTICATED'],
  ['subgraph called with a forged signature', () => subgraphCall({ 'x-paygraph-identity': Buffer.from('{"subject":"x","scopes":["ops:admin"],"internal":true}').toString('base64url'), 'x-paygraph-timestamp': String(Date.now()), 'x-paygraph-signature': 'AAAA' })(), 'UNAUTHENTICATED'],
  ['subgraph called with a replayed signature', () => {
    const body = JSON.stringify({ query: '{ customer(id: "x") { id } }' });
    const headers = signRequest(internalSigningSecret(), { method: 'POST', path: '/graphql', body, identity: { subject: 'x', scopes: ['ops:admin'] }, now: Date.now() - 10 * 60_000 });
    return raw(body, { 'content-type': 'application/json', ...headers }, 'POST', stack.subgraphUrls.accounts)();
  }, 'UNAUTHENTICATED'],
];

describe('the hostile-input suite', () => {
  test('has at least 50 requests', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(50);
  });

  test.each(HOSTILE.map(([label, send, expected]) => ({ label, send, expected })))('$label is refused with $expected and changes nothing', async ({ send, expected }) => {
    const before = await databaseFingerprint(stack.mongoUri, stack.dbPrefix);
    const outcome = await send();
    expect(outcome.code).toBe(expected);
    expect(outcome.status).toBeLessThan(500);
    expect(await databaseFingerprint(stack.mongoUri, stack.dbPrefix)).toEqual(before);
    const health = await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/healthz'));
    expect(health.status).toBe(200);
  });
});
