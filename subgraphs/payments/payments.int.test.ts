import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { internalSigningSecret } from '../../runtime/config';
import type { Identity } from '../../runtime/identity';
import { signRequest } from '../../runtime/signing';
import { isolateDatabases } from '../../tests/support/database';
import { customerIdentity, operator, secondOperator, signedGraphql, thirdOperator } from '../../tests/support/signed-client';
import { errorCodes, expectOk, fundedCustomer, ledgerOf, startStack, type PaymentsStack } from '../../tests/support/in-process-stack';

isolateDatabases();
process.env.PAYGRAPH_APPROVAL_THRESHOLD_USD = '5000.00';
process.env.PAYGRAPH_DUAL_APPROVAL_THRESHOLD_USD = '8000.00';
process.env.PAYGRAPH_RESUME_INTERVAL_MS = '0';

let stack: PaymentsStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const PAYMENT_FIELDS = `id status failureReason amount { amount currency minorUnits } source { id } destination { id }
  beneficiary { name country accountNumber currency } requiredApprovals approvals { approver }
  refundedAmount { amount } fx { rate sourceAmount { amount currency } targetAmount { amount currency minorUnits } lockedAt }
  events { cursor status previousStatus occurredAt }`;
const CREATE = `mutation($input: CreatePaymentInput!) { createPayment(input: $input) { ${PAYMENT_FIELDS} } }`;

type PaymentOut = {
  id: string; status: string; failureReason: string | null; amount: { amount: string; currency: string; minorUnits: string };
  requiredApprovals: number; approvals: { approver: string }[]; refundedAmount: { amount: string };
  fx: { rate: string; sourceAmount: { amount: string; currency: string }; targetAmount: { amount: string; currency: string; minorUnits: string } } | null;
  events: { cursor: string; status: string; previousStatus: string | null }[];
};

const payments = (query: string, variables: Record<string, unknown>, identity: Identity = operator) => signedGraphql(stack.payments!.url, query, variables, identity);

let keys = 0;
const key = () => `key-${Date.now()}-${++keys}`;

async function pay(input: Record<string, unknown>, identity: Identity = operator): Promise<PaymentOut> {
  return (expectOk(await payments(CREATE, { input: { idempotencyKey: key(), ...input } }, identity)) as { createPayment: PaymentOut }).createPayment;
}

async function paymentEntries(paymentId: string, accountIds: string[]) {
  const entries = [];
  for (const id of accountIds) entries.push(...(await ledgerOf(stack, id)).entries.filter((e) => e.paymentId === paymentId));
  return entries;
}

describe('payment lifecycle', () => {
  test('a transfer between two accounts settles with two ledger entries and ordered events', async () => {
    const a = await fundedCustomer(stack, { USD: '1000.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const p = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '125.50', currency: 'USD' }, reference: 'rent' });
    expect(p.status).toBe('SETTLED');
    expect(p.amount).toEqual({ amount: '125.50', currency: 'USD', minorUnits: '12550' });
    expect(p.events.map((e) => [e.previousStatus, e.status])).toEqual([[null, 'PENDING'], ['PENDING', 'PROCESSING'], ['PROCESSING', 'SETTLED']]);
    const entries = await paymentEntries(p.id, [a.accounts.USD, b.accounts.USD]);
    expect(entries.map((e) => `${e.direction} ${e.amount.amount}`).sort()).toEqual(['CREDIT 125.50', 'DEBIT 125.50']);
    expect((await ledgerOf(stack, a.accounts.USD)).balance).toBe('874.50');
    expect((await ledgerOf(stack, b.accounts.USD)).balance).toBe('125.50');
  });

  test('insufficient funds ends FAILED and moves nothing', async () => {
    const a = await fundedCustomer(stack, { USD: '10.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const p = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '50.00', currency: 'USD' } });
    expect(p.status).toBe('FAILED');
    expect(p.failureReason).toBe('insufficient funds');
    expect(await paymentEntries(p.id, [a.accounts.USD, b.accounts.USD])).toEqual([]);
    expect((await ledgerOf(stack, a.accounts.USD)).balance).toBe('10.00');
  });

  test('input is validated against the accounts', async () => {
    const a = await fundedCustomer(stack, { USD: '100.00', EUR: '100.00' });
    const b = await fundedCustomer(stack, { EUR: '0' });
    const attempt = (input: Record<string, unknown>, identity: Identity = operator) => payments(CREATE, { input: { idempotencyKey: key(), ...input } }, identity);
    expect(errorCodes(await attempt({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.EUR, amount: { amount: '1.00', currency: 'EUR' } }))).toEqual(['BAD_USER_INPUT']);
    // Into an account in another currency is a cross-currency transfer (fx-quote.ts): refused only without a rate for that currency.
    const noRate = await fundedCustomer(stack, { THB: '0' });
    expect(errorCodes(await attempt({ sourceAccountId: a.accounts.USD, destinationAccountId: noRate.accounts.THB, amount: { amount: '1.00', currency: 'USD' } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await attempt({ sourceAccountId: a.accounts.EUR, destinationAccountId: b.accounts.EUR, amount: { amount: '1.001', currency: 'EUR' } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await attempt({ sourceAccountId: 'acc_000000000000000000000000', destinationAccountId: b.accounts.EUR, amount: { amount: '1.00', currency: 'EUR' } }))).toEqual(['NOT_FOUND']);
    // A customer token pays only from its own accounts.
    expect(errorCodes(await attempt({ sourceAccountId: a.accounts.EUR, destinationAccountId: b.accounts.EUR, amount: { amount: '1.00', currency: 'EUR' } }, customerIdentity(b.customerId)))).toEqual(['NOT_FOUND']);
    const own = await pay({ sourceAccountId: a.accounts.EUR, destinationAccountId: b.accounts.EUR, amount: { amount: '1.00', currency: 'EUR' } }, customerIdentity(a.customerId));
    expect(own.status).toBe('SETTLED');
    // The payee sees it, an unrelated customer does not.
    const seen = expectOk(await payments(`query($id: ID!) { payment(id: $id) { id } }`, { id: own.id }, customerIdentity(b.customerId))) as { payment: { id: string } | null };
    expect(seen.payment?.id).toBe(own.id);
    const c = await fundedCustomer(stack, { EUR: '0' });
    const hidden = expectOk(await payments(`query($id: ID!) { payment(id: $id) { id } }`, { id: own.id }, customerIdentity(c.customerId))) as { payment: null };
    expect(hidden.payment).toBeNull();
  });

  test('payments of an account: as source and as destination, newest first, paged, by status, within the caller\'s own', async () => {
    const a = await fundedCustomer(stack, { USD: '7000.00' });
    const b = await fundedCustomer(stack, { USD: '100.00' });
    const c = await fundedCustomer(stack, { USD: '100.00' });
    const p1 = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '1.00', currency: 'USD' } });
    const p2 = await pay({ sourceAccountId: b.accounts.USD, destinationAccountId: a.accounts.USD, amount: { amount: '2.00', currency: 'USD' } });
    const elsewhere = await pay({ sourceAccountId: c.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '3.00', currency: 'USD' } });
    const p3 = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: c.accounts.USD, amount: { amount: '4.00', currency: 'USD' } });
    const held = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '6000.00', currency: 'USD' } });
    expect(held.status).toBe('REQUIRES_APPROVAL');
    const list = `query($a: ID, $status: [PaymentStatus!], $first: Int, $after: String) { payments(filter: { accountId: $a, status: $status }, first: $first, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    type Page = { payments: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const ids = (page: unknown) => (page as Page).payments.edges.map((e) => e.node.id);
    const ofA = [held.id, p3.id, p2.id, p1.id];
    expect(ids(expectOk(await payments(list, { a: a.accounts.USD })))).toEqual(ofA);
    const first = expectOk(await payments(list, { a: a.accounts.USD, first: 3 })) as Page;
    expect(ids(first)).toEqual(ofA.slice(0, 3));
    expect(first.payments.pageInfo.hasNextPage).toBe(true);
    const rest = expectOk(await payments(list, { a: a.accounts.USD, first: 3, after: first.payments.pageInfo.endCursor })) as Page;
    expect([ids(rest), rest.payments.pageInfo.hasNextPage]).toEqual([ofA.slice(3), false]);
    expect(ids(expectOk(await payments(list, { a: a.accounts.USD, status: ['SETTLED'] })))).toEqual([p3.id, p2.id, p1.id]);
    expect(ids(expectOk(await payments(list, { a: a.accounts.USD, status: ['REQUIRES_APPROVAL'] })))).toEqual([held.id]);
    // A customer sees an account's payments only where it is a party, and its own without a filter.
    expect(ids(expectOk(await payments(list, { a: a.accounts.USD }, customerIdentity(b.customerId))))).toEqual([held.id, p2.id, p1.id]);
    expect(ids(expectOk(await payments(list, {}, customerIdentity(c.customerId))))).toEqual([p3.id, elsewhere.id]);
  });

  test('payments by ids: newest first, paged, other filters applied, another customer\'s left out', async () => {
    const a = await fundedCustomer(stack, { USD: '100.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const c = await fundedCustomer(stack, { USD: '100.00' });
    const mine: PaymentOut[] = [];
    for (let i = 0; i < 3; i++) mine.push(await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: `${i + 1}.00`, currency: 'USD' } }));
    const theirs = await pay({ sourceAccountId: c.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '1.00', currency: 'USD' } });
    const byIds = `query($ids: [ID!], $first: Int, $after: String, $a: ID) { payments(filter: { ids: $ids, accountId: $a }, first: $first, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }`;
    type Page = { payments: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const ids = [...mine.map((p) => p.id), theirs.id, 'pay_000000000000000000000000'];
    const newestFirst = [theirs.id, ...mine.map((p) => p.id).reverse()];
    const first = expectOk(await payments(byIds, { ids, first: 3 })) as Page;
    expect(first.payments.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 3));
    expect(first.payments.pageInfo.hasNextPage).toBe(true);
    const rest = expectOk(await payments(byIds, { ids, first: 3, after: first.payments.pageInfo.endCursor })) as Page;
    expect(rest.payments.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(3));
    const ofA = expectOk(await payments(byIds, { ids, a: a.accounts.USD })) as Page;
    expect(ofA.payments.edges.map((e) => e.node.id)).toEqual(mine.map((p) => p.id).reverse());
    const asA = expectOk(await payments(byIds, { ids }, customerIdentity(a.customerId))) as Page;
    expect(asA.payments.edges.map((e) => e.node.id)).toEqual(mine.map((p) => p.id).reverse());
    expect(errorCodes(await payments(byIds, { ids: Array.from({ length: 101 }, () => mine[0].id) }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await payments(byIds, { ids: ['acc_000000000000000000000000'] }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('idempotency', () => {
  test('same key and request → the same payment; a different request → IDEMPOTENCY_KEY_REUSED', async () => {
    const a = await fundedCustomer(stack, { USD: '500.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const input = { idempotencyKey: key(), sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '20.00', currency: 'USD' } };
    const first = (expectOk(await payments(CREATE, { input })) as { createPayment: PaymentOut }).createPayment;
    const again = (expectOk(await payments(CREATE, { input: { ...input, amount: { amount: '20', currency: 'USD' } } })) as { createPayment: PaymentOut }).createPayment;
    expect(again.id).toBe(first.id);
    expect(again.status).toBe('SETTLED');
    expect(errorCodes(await payments(CREATE, { input: { ...input, amount: { amount: '21.00', currency: 'USD' } } }))).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    // Keys are scoped to the caller: another caller's same key is its own payment.
    const other = (expectOk(await payments(CREATE, { input }, secondOperator)) as { createPayment: PaymentOut }).createPayment;
    expect(other.id).not.toBe(first.id);
    expect((await ledgerOf(stack, a.accounts.USD)).balance).toBe('460.00');
  });

  test('ten concurrent requests with one key make one payment', async () => {
    const a = await fundedCustomer(stack, { USD: '500.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const input = { idempotencyKey: key(), sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '7.00', currency: 'USD' } };
    const responses = await Promise.all(Array.from({ length: 10 }, () => payments(CREATE, { input })));
    const ids = new Set(responses.map((r) => (expectOk(r) as { createPayment: PaymentOut }).createPayment.id));
    expect(ids.size).toBe(1);
    const list = expectOk(await payments(`query($a: ID) { payments(filter: { accountId: $a }) { edges { node { id status } } } }`, { a: a.accounts.USD })) as {
      payments: { edges: { node: { id: string; status: string } }[] };
    };
    expect(list.payments.edges.map((e) => e.node)).toEqual([{ id: [...ids][0], status: 'SETTLED' }]);
    expect((await ledgerOf(stack, a.accounts.USD)).balance).toBe('493.00');
  });
});

describe('approvals, cancel and reject', () => {
  test('one approver at the first threshold; the creator cannot approve', async () => {
    const a = await fundedCustomer(stack, { USD: '20000.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const p = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '6123.45', currency: 'USD' } });
    expect(p.status).toBe('REQUIRES_APPROVAL');
    expect(p.requiredApprovals).toBe(1);
    const APPROVE = `mutation($id: ID!) { approvePayment(id: $id) { status approvals { approver } } }`;
    expect(errorCodes(await payments(APPROVE, { id: p.id }, operator))).toEqual(['FORBIDDEN']);
    const approved = expectOk(await payments(APPROVE, { id: p.id }, secondOperator)) as { approvePayment: { status: string; approvals: { approver: string }[] } };
    expect(approved.approvePayment).toEqual({ status: 'SETTLED', approvals: [{ approver: 'operator-2' }] });
    expect(errorCodes(await payments(APPROVE, { id: p.id }, thirdOperator))).toEqual(['INVALID_STATE_TRANSITION']);
  });

  test('two distinct approvers at the second threshold', async () => {
    const a = await fundedCustomer(stack, { USD: '20000.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const p = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '8765.43', currency: 'USD' } });
    expect([p.status, p.requiredApprovals]).toEqual(['REQUIRES_APPROVAL', 2]);
    const APPROVE = `mutation($id: ID!) { approvePayment(id: $id) { status } }`;
    expect((expectOk(await payments(APPROVE, { id: p.id }, secondOperator)) as { approvePayment: { status: string } }).approvePayment.status).toBe('REQUIRES_APPROVAL');
    expect(errorCodes(await payments(APPROVE, { id: p.id }, secondOperator))).toEqual(['INVALID_STATE_TRANSITION']);
    expect((expectOk(await payments(APPROVE, { id: p.id }, thirdOperator)) as { approvePayment: { status: string } }).approvePayment.status).toBe('SETTLED');
    expect((await paymentEntries(p.id, [a.accounts.USD, b.accounts.USD])).length).toBe(2);
  });

  test('reject and cancel end a payment before money moves, and only then', async () => {
    const a = await fundedCustomer(stack, { USD: '20000.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const big = { sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '5555.55', currency: 'USD' } };
    const toReject = await pay(big);
    const rejected = expectOk(await payments(`mutation($id: ID!) { rejectPayment(id: $id, reason: "looks odd") { status failureReason } }`, { id: toReject.id }, secondOperator)) as {
      rejectPayment: { status: string; failureReason: string };
    };
    expect(rejected.rejectPayment).toEqual({ status: 'DECLINED', failureReason: 'rejected: looks odd' });

    const CANCEL = `mutation($id: ID!) { cancelPayment(id: $id) { status events { status } } }`;
    const toCancel = await pay({ ...big, amount: { amount: '5432.10', currency: 'USD' } }, customerIdentity(a.customerId));
    expect(toCancel.status).toBe('REQUIRES_APPROVAL');
    // The payee cannot cancel; the payer can.
    expect(errorCodes(await payments(CANCEL, { id: toCancel.id }, customerIdentity(b.customerId)))).toEqual(['FORBIDDEN']);
    const canceled = expectOk(await payments(CANCEL, { id: toCancel.id }, customerIdentity(a.customerId))) as { cancelPayment: { status: string; events: { status: string }[] } };
    expect(canceled.cancelPayment.status).toBe('CANCELED');
    expect(canceled.cancelPayment.events.map((e) => e.status)).toEqual(['PENDING', 'REQUIRES_APPROVAL', 'CANCELED']);
    expect(errorCodes(await payments(CANCEL, { id: toCancel.id }))).toEqual(['INVALID_STATE_TRANSITION']);
    expect(errorCodes(await payments(`mutation($id: ID!) { approvePayment(id: $id) { status } }`, { id: toCancel.id }, secondOperator))).toEqual(['INVALID_STATE_TRANSITION']);

    const settled = await pay({ ...big, amount: { amount: '10.00', currency: 'USD' } });
    expect(settled.status).toBe('SETTLED');
    expect(errorCodes(await payments(CANCEL, { id: settled.id }))).toEqual(['INVALID_STATE_TRANSITION']);
    expect((await ledgerOf(stack, a.accounts.USD)).balance).toBe('19990.00');
  });
});

describe('refunds', () => {
  const REFUND = `mutation($input: RefundPaymentInput!) { refundPayment(input: $input) { status refundedAmount { amount } events { status } } }`;
  test('partial, idempotent, over-refund refused, then full', async () => {
    const a = await fundedCustomer(stack, { USD: '300.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const p = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '100.00', currency: 'USD' } });
    const first = { paymentId: p.id, amount: { amount: '30.00', currency: 'USD' }, idempotencyKey: key() };
    const partial = expectOk(await payments(REFUND, { input: first })) as { refundPayment: { status: string; refundedAmount: { amount: string } } };
    expect(partial.refundPayment).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedAmount: { amount: '30.00' } });
    const replay = expectOk(await payments(REFUND, { input: first })) as { refundPayment: { status: string; refundedAmount: { amount: string } } };
    expect(replay.refundPayment).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedAmount: { amount: '30.00' } });
    expect(errorCodes(await payments(REFUND, { input: { ...first, amount: { amount: '31.00', currency: 'USD' } } }))).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(errorCodes(await payments(REFUND, { input: { paymentId: p.id, amount: { amount: '70.01', currency: 'USD' }, idempotencyKey: key() } }))).toEqual(['BAD_USER_INPUT']);
    const full = expectOk(await payments(REFUND, { input: { paymentId: p.id, amount: { amount: '70.00', currency: 'USD' }, idempotencyKey: key() } })) as {
      refundPayment: { status: string; refundedAmount: { amount: string }; events: { status: string }[] };
    };
    expect(full.refundPayment.status).toBe('REFUNDED');
    expect(full.refundPayment.refundedAmount.amount).toBe('100.00');
    expect(full.refundPayment.events.map((e) => e.status)).toEqual(['PENDING', 'PROCESSING', 'SETTLED', 'PARTIALLY_REFUNDED', 'REFUNDED']);
    expect(errorCodes(await payments(REFUND, { input: { paymentId: p.id, amount: { amount: '1.00', currency: 'USD' }, idempotencyKey: key() } }))).toEqual(['INVALID_STATE_TRANSITION']);
    expect((await ledgerOf(stack, a.accounts.USD)).balance).toBe('300.00');
    expect((await ledgerOf(stack, b.accounts.USD)).balance).toBe('0.00');
    expect((await paymentEntries(p.id, [a.accounts.USD, b.accounts.USD])).length).toBe(6);
  });

  test('a payment that did not settle cannot be refunded', async () => {
    const a = await fundedCustomer(stack, { USD: '1.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const p = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '5.00', currency: 'USD' } });
    expect(p.status).toBe('FAILED');
    expect(errorCodes(await payments(REFUND, { input: { paymentId: p.id, amount: { amount: '1.00', currency: 'USD' }, idempotencyKey: key() } }))).toEqual(['INVALID_STATE_TRANSITION']);
  });
});

describe('cross-border', () => {
  test('an EUR payout from a USD account locks the rate and both amounts', async () => {
    const a = await fundedCustomer(stack, { USD: '500.00' });
    const p = await pay({
      sourceAccountId: a.accounts.USD,
      beneficiary: { name: 'Wilhelmina Straub', country: 'DE', accountNumber: 'DE89370400440532013000', currency: 'EUR', address: 'Hauptstrasse 1, Berlin' },
      amount: { amount: '100.00', currency: 'USD' },
    });
    expect(p.status).toBe('SETTLED');
    expect(p.fx).toMatchObject({ rate: '0.92', sourceAmount: { amount: '100.00', currency: 'USD' }, targetAmount: { amount: '92.00', currency: 'EUR', minorUnits: '9200' } });
    const source = await ledgerOf(stack, a.accounts.USD);
    expect(source.balance).toBe('400.00');
    expect(source.entries.filter((e) => e.paymentId === p.id).map((e) => `${e.direction} ${e.amount.amount}`)).toEqual(['DEBIT 100.00']);
  });
});

describe('payment events', () => {
  test('a customer\'s events page in order across a stretch of other customers\' events', async () => {
    const a = await fundedCustomer(stack, { USD: '500.00' });
    const b = await fundedCustomer(stack, { USD: '500.00' });
    const before = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '1.00', currency: 'USD' } });
    const c = await fundedCustomer(stack, { USD: '500.00' });
    const d = await fundedCustomer(stack, { USD: '0' });
    // Thirty of other customers' events between a's payments: a's pages must read past them.
    for (let i = 0; i < 10; i++) await pay({ sourceAccountId: c.accounts.USD, destinationAccountId: d.accounts.USD, amount: { amount: '1.00', currency: 'USD' } });
    const after = await pay({ sourceAccountId: b.accounts.USD, destinationAccountId: a.accounts.USD, amount: { amount: '2.00', currency: 'USD' } });
    const page = `query($after: String, $first: Int) { paymentEventsAfter(after: $after, first: $first) { cursor status payment { id } } }`;
    type Event = { cursor: string; status: string; payment: { id: string } };
    const seen: string[] = [];
    let cursor: string | undefined = before.events[0].cursor;
    for (let pages = 0; pages < 10; pages++) {
      const events: Event[] = (expectOk(await payments(page, { after: cursor, first: 2 }, customerIdentity(a.customerId))) as { paymentEventsAfter: Event[] }).paymentEventsAfter;
      if (events.length === 0) break;
      seen.push(...events.map((e) => `${e.payment.id === before.id ? 'before' : e.payment.id === after.id ? 'after' : 'other'}:${e.status}`));
      cursor = events[events.length - 1].cursor;
    }
    expect(seen).toEqual(['before:PROCESSING', 'before:SETTLED', 'after:PENDING', 'after:PROCESSING', 'after:SETTLED']);
    // Everyone's log, one page: exactly the next events after the cursor.
    const all = (expectOk(await payments(page, { after: before.events[0].cursor, first: 3 })) as { paymentEventsAfter: Event[] }).paymentEventsAfter;
    expect(all.map((e) => `${e.payment.id === before.id ? 'before' : 'other'}:${e.status}`)).toEqual(['before:PROCESSING', 'before:SETTLED', 'other:PENDING']);
  });

  test('the log is ordered and a subscription resumes after a cursor with no gap and no duplicate', async () => {
    const a = await fundedCustomer(stack, { USD: '500.00' });
    const b = await fundedCustomer(stack, { USD: '0' });
    const first = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '1.00', currency: 'USD' } });
    const second = await pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '2.00', currency: 'USD' } });

    const log = expectOk(await payments(`query($after: String) { paymentEventsAfter(after: $after, first: 100) { cursor status payment { id } } }`, { after: first.events[0].cursor })) as {
      paymentEventsAfter: { cursor: string; status: string; payment: { id: string } }[];
    };
    const mine = log.paymentEventsAfter.filter((e) => [first.id, second.id].includes(e.payment.id));
    expect(mine.map((e) => `${e.payment.id === first.id ? 1 : 2}:${e.status}`)).toEqual(['1:PROCESSING', '1:SETTLED', '2:PENDING', '2:PROCESSING', '2:SETTLED']);

    // Replay from the first payment's first event, then live events of a third payment.
    const identity = customerIdentity(a.customerId);
    const client = createClient({
      url: stack.payments!.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: () => signRequest(internalSigningSecret(), { method: 'WS', path: '/graphql', body: '', identity }),
      retryAttempts: 0,
    });
    const received: [string, string][] = [];
    let third: PaymentOut | undefined;
    let thirdCreated: Promise<unknown> = Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe<{ paymentStatusChanged: { status: string; payment: { id: string } } }>(
        { query: `subscription($a: ID, $after: String) { paymentStatusChanged(accountId: $a, after: $after) { cursor status payment { id status } } }`, variables: { a: a.accounts.USD, after: first.events[0].cursor } },
        {
          next: ({ data, errors }) => {
            if (errors) return reject(new Error(JSON.stringify(errors)));
            const e = data!.paymentStatusChanged;
            received.push([e.payment.id, e.status]);
            if (received.length === 5) {
              thirdCreated = pay({ sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '3.00', currency: 'USD' } }).then((p) => (third = p), reject);
            }
            if (received.length === 8) resolve();
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await done;
    await thirdCreated;
    await client.dispose();
    const which = (id: string) => (id === first.id ? 1 : id === second.id ? 2 : id === third?.id ? 3 : 0);
    expect(received.map(([id, status]) => `${which(id)}:${status}`)).toEqual(['1:PROCESSING', '1:SETTLED', '2:PENDING', '2:PROCESSING', '2:SETTLED', '3:PENDING', '3:PROCESSING', '3:SETTLED']);

    // Another customer's payment is FORBIDDEN to subscribe to.
    const stranger = createClient({
      url: stack.payments!.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: () => signRequest(internalSigningSecret(), { method: 'WS', path: '/graphql', body: '', identity: customerIdentity('cus_000000000000000000000000') }),
      retryAttempts: 0,
    });
    const refusal = await new Promise<unknown>((resolve) => {
      stranger.subscribe({ query: `subscription($p: ID) { paymentStatusChanged(paymentId: $p) { status } }`, variables: { p: first.id } }, {
        next: (message) => resolve(message),
        error: (error) => resolve(error),
        complete: () => resolve('complete'),
      });
    });
    await stranger.dispose();
    expect(JSON.stringify(refusal)).toContain('FORBIDDEN');
  });
});
