import { setTimeout as sleep } from 'node:timers/promises';
import { signDevToken } from '../runtime/dev-token';
import { startTestStack, type TestStack } from './support/stack';

/**
 * Two-phase payments through the gateway on the real stack: authorize (hold), capture in part,
 * void, expiry by the sweeper, the available and pending balances, idempotent repeats, the
 * refusals and tenant isolation.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ COMPLIANCE_AUDIT_POLL_MS: '0', PAYGRAPH_HOLD_SWEEP_INTERVAL_MS: '250', PAYGRAPH_HOLD_SWEEP_LEASE_MS: '2000' });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

async function errorCode(query: string, variables: Record<string, unknown>, token?: string): Promise<unknown> {
  const result = await stack.graphql(query, variables, token);
  return result.errors?.[0]?.extensions?.code;
}

async function openFundedAccount(name: string, deposit: string | null): Promise<{ customerId: string; accountId: string }> {
  const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', {
    i: { name, email: `${name.split(' ')[0].toLowerCase()}@example.com`, country: 'US' },
  });
  await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } });
  const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } });
  if (deposit) {
    await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', {
      i: { accountId: openAccount.id, amount: { amount: deposit, currency: 'USD' }, idempotencyKey: `deposit-${openAccount.id}` },
    });
  }
  return { customerId: createCustomer.id, accountId: openAccount.id };
}

const BALANCES = 'query($id: ID!) { account(id: $id) { balance { amount } availableBalance { amount } pendingBalance { amount } } }';
async function balances(accountId: string): Promise<[string, string, string]> {
  const { account } = await data(BALANCES, { id: accountId });
  return [account.balance.amount, account.availableBalance.amount, account.pendingBalance.amount];
}

async function minorBalances(accountId: string): Promise<bigint[]> {
  const { account } = await data('query($id: ID!) { account(id: $id) { balance { minorUnits } availableBalance { minorUnits } pendingBalance { minorUnits } } }', { id: accountId });
  return [account.balance, account.availableBalance, account.pendingBalance].map((money: { minorUnits: string }) => BigInt(money.minorUnits));
}

const PAYMENT_FIELDS = 'id status failureReason authorization { expiresAt capturedAmount { amount } } events { status }';
const AUTHORIZE = `mutation($i: AuthorizePaymentInput!) { authorizePayment(input: $i) { ${PAYMENT_FIELDS} } }`;
const CAPTURE = `mutation($id: ID!, $amount: MoneyInput) { capturePayment(id: $id, amount: $amount) { ${PAYMENT_FIELDS} } }`;
const VOID = `mutation($id: ID!) { voidPayment(id: $id) { ${PAYMENT_FIELDS} } }`;
const CREATE = 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status failureReason } }';
const PAYMENT = `query($id: ID!) { payment(id: $id) { ${PAYMENT_FIELDS} } }`;
const usd = (amount: string) => ({ amount, currency: 'USD' });

let payer: { customerId: string; accountId: string };
let payee: { customerId: string; accountId: string };

beforeAll(async () => {
  payer = await openFundedAccount('Ottoline Bramwell', '1000.00');
  payee = await openFundedAccount('Peregrine Vance', null);
}, 120_000);

test('an authorization holds the amount: available, not posted; ordinary payments cannot spend it', async () => {
  const { authorizePayment } = await data(AUTHORIZE, { i: { idempotencyKey: 'hold-1', sourceAccountId: payer.accountId, destinationAccountId: payee.accountId, amount: usd('300.00') } });
  expect(authorizePayment.status).toBe('AUTHORIZED');
  expect(authorizePayment.events.map((e: { status: string }) => e.status)).toEqual(['PENDING', 'PROCESSING', 'AUTHORIZED']);
  expect(authorizePayment.authorization.capturedAmount).toBeNull();
  expect(await balances(payer.accountId)).toEqual(['1000.00', '700.00', '300.00']);

  // The same request again is the same payment, and holds nothing more.
  const again = await data(AUTHORIZE, { i: { idempotencyKey: 'hold-1', sourceAccountId: payer.accountId, destinationAccountId: payee.accountId, amount: usd('300.00') } });
  expect(again.authorizePayment.id).toBe(authorizePayment.id);
  expect(await balances(payer.accountId)).toEqual(['1000.00', '700.00', '300.00']);
  expect(await errorCode(AUTHORIZE, { i: { idempotencyKey: 'hold-1', sourceAccountId: payer.accountId, destinationAccountId: payee.accountId, amount: usd('301.00') } })).toBe('IDEMPOTENCY_KEY_REUSED');

  // 800 of the 1000 posted are not available: the ledger's overdraft check works on available.
  const { createPayment } = await data(CREATE, { i: { idempotencyKey: 'spend-held', sourceAccountId: payer.accountId, destinationAccountId: payee.accountId, amount: usd('800.00') } });
  expect([createPayment.status, createPayment.failureReason]).toEqual(['FAILED', 'insufficient funds']);
  const tooMuch = await data(AUTHORIZE, { i: { idempotencyKey: 'hold-too-much', sourceAccountId: payer.accountId, destinationAccountId: payee.accountId, amount: usd('700.01') } });
  expect(tooMuch.authorizePayment.status).toBe('FAILED');
  expect(await balances(payer.accountId)).toEqual(['1000.00', '700.00', '300.00']);

  // A partial capture posts 120.00 and releases the other 180.00.
  const { capturePayment } = await data(CAPTURE, { id: authorizePayment.id, amount: usd('120.00') });
  expect(capturePayment.status).toBe('SETTLED');
  expect(capturePayment.authorization.capturedAmount.amount).toBe('120.00');
  expect(capturePayment.events.map((e: { status: string }) => e.status)).toEqual(['PENDING', 'PROCESSING', 'AUTHORIZED', 'SETTLED']);
  expect(await balances(payer.accountId)).toEqual(['880.00', '880.00', '0.00']);
  expect(await balances(payee.accountId)).toEqual(['120.00', '120.00', '0.00']);

  // Repeated: the same answer and nothing posted twice; anything else is refused.
  const repeated = await data(CAPTURE, { id: authorizePayment.id, amount: usd('120.00') });
  expect(repeated.capturePayment.status).toBe('SETTLED');
  expect(await errorCode(CAPTURE, { id: authorizePayment.id, amount: usd('100.00') })).toBe('INVALID_STATE_TRANSITION');
  expect(await errorCode(VOID, { id: authorizePayment.id })).toBe('INVALID_STATE_TRANSITION');
  expect(await balances(payer.accountId)).toEqual(['880.00', '880.00', '0.00']);

  // Refunds are bounded by what was captured.
  const REFUND = 'mutation($i: RefundPaymentInput!) { refundPayment(input: $i) { status refundedAmount { amount } } }';
  expect(await errorCode(REFUND, { i: { paymentId: authorizePayment.id, amount: usd('120.01'), idempotencyKey: 'refund-over' } })).toBe('BAD_USER_INPUT');
  const { refundPayment } = await data(REFUND, { i: { paymentId: authorizePayment.id, amount: usd('120.00'), idempotencyKey: 'refund-all' } });
  expect([refundPayment.status, refundPayment.refundedAmount.amount]).toEqual(['REFUNDED', '120.00']);
  expect(await balances(payer.accountId)).toEqual(['1000.00', '1000.00', '0.00']);

  // The visible ledger holds money entries only.
  const { account } = await data('query($id: ID!) { account(id: $id) { ledger(first: 50) { edges { node { direction } } } } }', { id: payer.accountId });
  expect(new Set(account.ledger.edges.map((e: { node: { direction: string } }) => e.node.direction))).toEqual(new Set(['CREDIT', 'DEBIT']));
}, 180_000);

test('a void releases the hold; a lapsed hold is released by the sweeper', async () => {
  const before = await balances(payer.accountId);
  const { authorizePayment } = await data(AUTHORIZE, { i: { idempotencyKey: 'hold-void', sourceAccountId: payer.accountId, destinationAccountId: payee.accountId, amount: usd('250.00') } });
  expect(authorizePayment.status).toBe('AUTHORIZED');
  const { voidPayment } = await data(VOID, { id: authorizePayment.id });
  expect([voidPayment.status, voidPayment.events.at(-1).status]).toEqual(['VOIDED', 'VOIDED']);
  expect((await data(VOID, { id: authorizePayment.id })).voidPayment.status).toBe('VOIDED');
  expect(await errorCode(CAPTURE, { id: authorizePayment.id, amount: null })).toBe('INVALID_STATE_TRANSITION');
  expect(await balances(payer.accountId)).toEqual(before);

  const expiresAt = new Date(Date.now() + 3_000).toISOString();
  const lapsing = await data(AUTHORIZE, {
    i: { idempotencyKey: 'hold-expire', sourceAccountId: payer.accountId, beneficiary: { name: 'Rosalind Kerr', country: 'US', accountNumber: 'US1234567890', currency: 'USD' }, amount: usd('40.00'), expiresAt },
  });
  expect([lapsing.authorizePayment.status, lapsing.authorizePayment.authorization.expiresAt]).toEqual(['AUTHORIZED', expiresAt]);
  expect((await balances(payer.accountId))[2]).toBe('40.00');
  let status = 'AUTHORIZED';
  for (let attempt = 0; attempt < 240 && status === 'AUTHORIZED'; attempt++) {
    await sleep(250);
    status = (await data(PAYMENT, { id: lapsing.authorizePayment.id })).payment.status;
  }
  expect(status).toBe('EXPIRED');
  expect(await balances(payer.accountId)).toEqual(before);
  expect(await errorCode(CAPTURE, { id: lapsing.authorizePayment.id, amount: null })).toBe('INVALID_STATE_TRANSITION');
}, 180_000);

test('bad input changes nothing; other customers see nothing', async () => {
  const before = await minorBalances(payer.accountId);
  const base = { sourceAccountId: payer.accountId, destinationAccountId: payee.accountId, amount: usd('10.00') };
  expect(await errorCode(AUTHORIZE, { i: { ...base, idempotencyKey: 'bad-1', expiresAt: '2020-01-01T00:00:00.000Z' } })).toBe('BAD_USER_INPUT');
  expect(await errorCode(AUTHORIZE, { i: { ...base, idempotencyKey: 'bad-2', expiresAt: '2099-01-01T00:00:00.000Z' } })).toBe('BAD_USER_INPUT');
  expect(await errorCode(AUTHORIZE, { i: { ...base, idempotencyKey: 'bad-3', amount: usd('10.001') } })).toBe('BAD_USER_INPUT');
  const { authorizePayment } = await data(AUTHORIZE, { i: { ...base, idempotencyKey: 'hold-isolation' } });
  expect(await errorCode(CAPTURE, { id: authorizePayment.id, amount: usd('10.01') })).toBe('BAD_USER_INPUT');
  expect(await errorCode(CAPTURE, { id: authorizePayment.id, amount: { amount: '1.00', currency: 'EUR' } })).toBe('BAD_USER_INPUT');
  const { createPayment } = await data(CREATE, { i: { ...base, idempotencyKey: 'bad-1' } });
  expect(createPayment.status).toBe('SETTLED'); // keys of authorizePayment and createPayment are apart

  const stranger = await openFundedAccount('Wilhelmina Stroud', null);
  const strangerToken = await signDevToken({ sub: 'stranger-holds', scope: 'accounts:read payments:read payments:write', customerId: stranger.customerId });
  expect(await errorCode(CAPTURE, { id: authorizePayment.id, amount: null }, strangerToken)).toBe('NOT_FOUND');
  expect(await errorCode(VOID, { id: authorizePayment.id }, strangerToken)).toBe('NOT_FOUND');
  const reader = await signDevToken({ sub: 'reader-holds', scope: 'payments:read' });
  // The gateway refuses the field for want of payments:write before any subgraph is asked.
  expect(await errorCode(VOID, { id: authorizePayment.id }, reader)).toBe('UNAUTHORIZED_FIELD_OR_TYPE');
  expect((await data(PAYMENT, { id: authorizePayment.id })).payment.status).toBe('AUTHORIZED');
  // Only the settled 10.00 and the 10.00 held moved: posted −10.00, available −20.00, pending +10.00.
  const [posted, available, pending] = (await minorBalances(payer.accountId)).map((m, i) => m - before[i]);
  expect([posted, available, pending]).toEqual([-1000n, -2000n, 1000n]);

  const payerToken = await signDevToken({ sub: 'payer-holds', scope: 'accounts:read payments:read payments:write', customerId: payer.customerId });
  expect((await data(VOID, { id: authorizePayment.id }, payerToken)).voidPayment.status).toBe('VOIDED');
}, 180_000);
