import { serviceIdentity } from '../runtime/identity';
import { signDevToken } from '../runtime/dev-token';
import { signedGraphql } from './support/signed-client';
import { startTestStack, type TestStack } from './support/stack';

/**
 * Cross-currency transfers between accounts, end to end through the gateway and every
 * subgraph process: the quote, the locked rate on the payment, one leg per currency through
 * the house's FX position accounts (read from the accounts subgraph as our own services see
 * them), per-currency balance, idempotent re-sends, refusals that move nothing.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ COMPLIANCE_AUDIT_POLL_MS: '0' });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

/** A KYC-verified customer with one account per currency, funded as given, and the customer's own token. */
async function customerWith(name: string, funds: Record<string, string>) {
  const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', {
    i: { name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`, country: 'US' },
  });
  await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } });
  const accounts: Record<string, string> = {};
  for (const [currency, amount] of Object.entries(funds)) {
    const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency } });
    accounts[currency] = openAccount.id;
    if (amount !== '0') {
      await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', {
        i: { accountId: openAccount.id, amount: { amount, currency }, idempotencyKey: `fund-${openAccount.id}` },
      });
    }
  }
  const token = await signDevToken({ sub: `user-${createCustomer.id}`, scope: 'accounts:read payments:read payments:write', customerId: createCustomer.id });
  return { customerId: createCustomer.id as string, accounts, token };
}

/** An account's balance and the entries of one payment, as our own services see it (house accounts are not public). */
async function ledgerAsService(accountId: string, paymentId: string) {
  const result = await signedGraphql(stack.subgraphUrls.accounts, `query($id: ID!) { account(id: $id) { currency balance { minorUnits }
    ledger(first: 100) { edges { node { direction amount { amount currency minorUnits } paymentId } } } } }`, { id: accountId }, serviceIdentity('fx-test'));
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  const account = result.data!.account;
  return {
    currency: account.currency as string,
    balanceMinor: BigInt(account.balance.minorUnits),
    entries: (account.ledger.edges as { node: { direction: string; amount: { amount: string; currency: string; minorUnits: string }; paymentId: string | null } }[])
      .map((e) => e.node)
      .filter((e) => e.paymentId === paymentId),
  };
}

async function houseAccount(currency: string): Promise<string> {
  const result = await signedGraphql(stack.subgraphUrls.accounts, 'query($c: Currency!) { systemAccountId(purpose: FX_POSITION, currency: $c) }', { c: currency }, serviceIdentity('fx-test'));
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data!.systemAccountId as string;
}

const QUOTE = `query($amount: MoneyInput!, $to: Currency!) { fxQuote(amount: $amount, to: $to) {
  rate midRate spreadBps sourceAmount { amount currency minorUnits } destinationAmount { amount currency minorUnits }
  spread roundingRemainder quotedAt expiresAt } }`;
const CREATE = `mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status amount { amount currency }
  fx { rate midRate spreadBps spread roundingRemainder sourceAmount { amount currency } targetAmount { amount currency minorUnits } lockedAt } } }`;

/** The saga settles the payment before createPayment answers when nothing waits; a slow machine may still be behind. */
async function settled(id: string, token?: string): Promise<Record<string, any>> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { payment } = await data('query($id: ID!) { payment(id: $id) { id status failureReason events { status } } }', { id }, token);
    if (!['PENDING', 'PROCESSING'].includes(payment.status)) return payment;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`payment ${id} did not finish`);
}

test('fxQuote states the rate, the spread, both amounts and how long it holds; bad input is refused', async () => {
  const alice = await customerWith('Alma Quotewell', { USD: '0' });
  const { fxQuote } = await data(QUOTE, { amount: { amount: '100.00', currency: 'USD' }, to: 'EUR' }, alice.token);
  expect(fxQuote).toMatchObject({
    rate: '0.9177', midRate: '0.92', spreadBps: 25, spread: '0.23', roundingRemainder: '0.00',
    sourceAmount: { amount: '100.00', currency: 'USD', minorUnits: '10000' },
    destinationAmount: { amount: '91.77', currency: 'EUR', minorUnits: '9177' },
  });
  expect(Date.parse(fxQuote.expiresAt) - Date.parse(fxQuote.quotedAt)).toBe(60_000);

  for (const variables of [
    { amount: { amount: '10.001', currency: 'USD' }, to: 'EUR' }, // more decimals than USD has
    { amount: { amount: '10.5', currency: 'JPY' }, to: 'USD' },
    { amount: { amount: '10.00', currency: 'USD' }, to: 'USD' }, // no exchange
    { amount: { amount: '-1.00', currency: 'USD' }, to: 'EUR' },
  ]) {
    const refused = await stack.graphql(QUOTE, variables, alice.token);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  }
  const anonymous = await stack.graphql(QUOTE, { amount: { amount: '1.00', currency: 'USD' }, to: 'EUR' }, null);
  expect(anonymous.data?.fxQuote ?? null).toBeNull();
  expect(anonymous.errors?.length).toBeGreaterThan(0);
}, 120_000);

test.each([
  // [from, to, amount, funded]
  ['USD', 'EUR', '123.45', '500.00'],
  ['EUR', 'JPY', '77.77', '100.00'], // into exponent 0
  ['USD', 'BHD', '250.00', '300.00'], // into exponent 3
  ['BHD', 'USD', '12.345', '20.000'], // out of exponent 3
])('a %s → %s transfer between own accounts locks the quoted rate and posts one leg per currency through the house', async (from, to, amount, funded) => {
  const owner = await customerWith(`Fenna ${from}${to}`, { [from]: funded, [to]: '0' });
  const [houseFrom, houseTo] = [await houseAccount(from), await houseAccount(to)];
  const before = { houseFrom: (await ledgerAsService(houseFrom, '-')).balanceMinor, houseTo: (await ledgerAsService(houseTo, '-')).balanceMinor };

  const { fxQuote } = await data(QUOTE, { amount: { amount, currency: from }, to }, owner.token);
  const input = { idempotencyKey: `fx-${from}-${to}`, sourceAccountId: owner.accounts[from], destinationAccountId: owner.accounts[to], amount: { amount, currency: from } };
  const { createPayment } = await data(CREATE, { i: input }, owner.token);
  // The payment is in the source currency (what risk and compliance see); the quote is locked on it.
  expect(createPayment.amount).toEqual({ amount, currency: from });
  expect(createPayment.fx).toMatchObject({
    rate: fxQuote.rate, midRate: fxQuote.midRate, spreadBps: 25, spread: fxQuote.spread, roundingRemainder: fxQuote.roundingRemainder,
    sourceAmount: { amount, currency: from }, targetAmount: fxQuote.destinationAmount,
  });
  const payment = await settled(createPayment.id, owner.token);
  expect(payment.status).toBe('SETTLED');
  const targetMinor = BigInt(fxQuote.destinationAmount.minorUnits);
  const sourceMinor = BigInt(fxQuote.sourceAmount.minorUnits);

  // Exactly four entries: the source and the house in the source currency, the house and the destination in the other.
  const source = await ledgerAsService(owner.accounts[from], payment.id);
  const destination = await ledgerAsService(owner.accounts[to], payment.id);
  const houseIn = await ledgerAsService(houseFrom, payment.id);
  const houseOut = await ledgerAsService(houseTo, payment.id);
  const legs = (l: typeof source) => l.entries.map((e) => `${e.direction} ${e.amount.amount} ${e.amount.currency}`);
  expect(legs(source)).toEqual([`DEBIT ${amount} ${from}`]);
  expect(legs(houseIn)).toEqual([`CREDIT ${amount} ${from}`]);
  expect(legs(houseOut)).toEqual([`DEBIT ${fxQuote.destinationAmount.amount} ${to}`]);
  expect(legs(destination)).toEqual([`CREDIT ${fxQuote.destinationAmount.amount} ${to}`]);
  // Each currency balances on its own: the house holds exactly what the customer's side moved.
  expect(houseIn.balanceMinor - before.houseFrom).toBe(sourceMinor);
  expect(houseOut.balanceMinor - before.houseTo).toBe(-targetMinor);
  expect(source.balanceMinor + houseIn.balanceMinor - before.houseFrom).toBe(BigInt(funded.replace('.', '')));
  expect(destination.balanceMinor + houseOut.balanceMinor - before.houseTo).toBe(0n);

  // The same request again is the same payment; nothing moves twice.
  const again = await data(CREATE, { i: input }, owner.token);
  expect(again.createPayment.id).toBe(payment.id);
  expect((await ledgerAsService(owner.accounts[from], payment.id)).entries).toHaveLength(1);
  expect((await ledgerAsService(owner.accounts[to], payment.id)).entries).toHaveLength(1);
}, 180_000);

test('an FX transfer for more than the balance fails and moves nothing; an FX transfer is not refundable; other customers see nothing', async () => {
  const owner = await customerWith('Greta Shortfall', { USD: '10.00', EUR: '0' });
  const stranger = await customerWith('Hugo Elsewhere', { EUR: '0' });
  const houseUsd = await houseAccount('USD');

  const { createPayment: tooMuch } = await data(CREATE, {
    i: { idempotencyKey: 'fx-too-much', sourceAccountId: owner.accounts.USD, destinationAccountId: owner.accounts.EUR, amount: { amount: '10.01', currency: 'USD' } },
  }, owner.token);
  const failed = await settled(tooMuch.id, owner.token);
  expect(failed).toMatchObject({ status: 'FAILED', failureReason: 'insufficient funds' });
  expect((await ledgerAsService(owner.accounts.USD, failed.id)).entries).toEqual([]);
  expect((await ledgerAsService(houseUsd, failed.id)).entries).toEqual([]);
  expect((await ledgerAsService(owner.accounts.EUR, failed.id)).entries).toEqual([]);

  const { createPayment: ok } = await data(CREATE, {
    i: { idempotencyKey: 'fx-ok', sourceAccountId: owner.accounts.USD, destinationAccountId: owner.accounts.EUR, amount: { amount: '10.00', currency: 'USD' } },
  }, owner.token);
  expect((await settled(ok.id, owner.token)).status).toBe('SETTLED');
  const eurBefore = await ledgerAsService(owner.accounts.EUR, ok.id);

  // Refunds of FX transfers are refused with a clear code, and nothing changes.
  const refund = await stack.graphql('mutation($i: RefundPaymentInput!) { refundPayment(input: $i) { status } }', {
    i: { paymentId: ok.id, amount: { amount: '1.00', currency: 'USD' }, idempotencyKey: 'fx-refund' },
  });
  expect(refund.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'FX_TRANSFER_NOT_REFUNDABLE' });
  const after = await data('query($id: ID!) { payment(id: $id) { status refundedAmount { amount } } }', { id: ok.id });
  expect(after.payment).toEqual({ status: 'SETTLED', refundedAmount: { amount: '0.00' } });
  expect((await ledgerAsService(owner.accounts.EUR, ok.id)).balanceMinor).toBe(eurBefore.balanceMinor);

  // Tenant isolation: another customer neither sees the payment nor pays from the account.
  const hidden = await stack.graphql('query($id: ID!) { payment(id: $id) { id } }', { id: ok.id }, stranger.token);
  expect(hidden.data?.payment).toBeNull();
  const theft = await stack.graphql(CREATE, {
    i: { idempotencyKey: 'fx-theft', sourceAccountId: owner.accounts.USD, destinationAccountId: stranger.accounts.EUR, amount: { amount: '1.00', currency: 'USD' } },
  }, stranger.token);
  expect(theft.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
}, 180_000);

test('an FX transfer takes the same risk, screening and approval steps as any payment, on its source-currency amount', async () => {
  const owner = await customerWith('Ilse Largesum', { EUR: '20000.00', USD: '0' });
  const approver = await signDevToken({ sub: 'fx-second-approver', scope: 'payments:read payments:approve' });
  // 9,500.00 EUR is under 10,000 in its own currency but 10,326.09 USD: one approver is needed.
  const { createPayment } = await data(CREATE, {
    i: { idempotencyKey: 'fx-large', sourceAccountId: owner.accounts.EUR, destinationAccountId: owner.accounts.USD, amount: { amount: '9500.00', currency: 'EUR' } },
  }, owner.token);
  expect(createPayment.amount).toEqual({ amount: '9500.00', currency: 'EUR' });
  const waiting = await settled(createPayment.id);
  expect(waiting.status).toBe('REQUIRES_APPROVAL');
  const { payment } = await data('query($id: ID!) { payment(id: $id) { requiredApprovals riskAssessment { decision } complianceCheck { status } } }', { id: createPayment.id });
  expect(payment).toMatchObject({ requiredApprovals: 1, riskAssessment: { decision: 'APPROVE' }, complianceCheck: { status: 'CLEAR' } });
  // Nothing has moved before the approval.
  expect((await ledgerAsService(owner.accounts.EUR, createPayment.id)).entries).toEqual([]);

  await data('mutation($id: ID!) { approvePayment(id: $id) { status } }', { id: createPayment.id }, approver);
  const done = await settled(createPayment.id);
  expect(done.status).toBe('SETTLED');
  expect((await ledgerAsService(owner.accounts.USD, createPayment.id)).entries.map((e) => `${e.direction} ${e.amount.amount}`)).toEqual([
    `CREDIT ${createPayment.fx.targetAmount.amount}`,
  ]);
}, 180_000);
