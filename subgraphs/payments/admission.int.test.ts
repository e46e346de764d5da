import { isolateDatabases } from '../../tests/support/database';
import { operator, signedGraphql } from '../../tests/support/signed-client';
import { expectOk, fundedCustomer, ledgerOf, startStack, type PaymentsStack } from '../../tests/support/in-process-stack';

/**
 * Back-pressure on createPayment: past the admission queue a payment is refused at once with
 * LIMIT_EXCEEDED and a retry hint, and a refused payment has stored nothing (its key is free).
 */
isolateDatabases();
process.env.PAYGRAPH_RESUME_INTERVAL_MS = '0';
process.env.PAYGRAPH_PAYMENTS_IN_FLIGHT = '2';
process.env.PAYGRAPH_PAYMENTS_QUEUED = '3';

let stack: PaymentsStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
  delete process.env.PAYGRAPH_PAYMENTS_IN_FLIGHT;
  delete process.env.PAYGRAPH_PAYMENTS_QUEUED;
});

const CREATE = 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }';

test('a burst past the queue is refused fast with LIMIT_EXCEEDED and retryAfterMs; the refused change nothing and can retry', async () => {
  const payer = await fundedCustomer(stack, { USD: '1000.00' });
  const payee = await fundedCustomer(stack, { USD: '0' });
  const input = (i: number) => ({ idempotencyKey: `burst-${Date.now()}-${i}`, sourceAccountId: payer.accounts.USD, destinationAccountId: payee.accounts.USD, amount: { amount: '1.00', currency: 'USD' } });
  const inputs = Array.from({ length: 30 }, (_, i) => input(i));
  const answers = await Promise.all(inputs.map((i) => signedGraphql(stack.payments!.url, CREATE, { input: i }, operator)));
  const settled = answers.filter((a) => (a.data as { createPayment?: { status: string } } | null)?.createPayment?.status === 'SETTLED');
  const refused = answers.filter((a) => a.errors?.[0]?.extensions?.code === 'LIMIT_EXCEEDED');
  expect(settled.length + refused.length).toBe(30);
  expect(refused.length).toBeGreaterThan(0);
  for (const answer of refused) expect(answer.errors![0].extensions).toMatchObject({ retryAfterMs: 200 });
  // Only the admitted payments moved money.
  const debits = (await ledgerOf(stack, payer.accounts.USD)).entries.filter((e) => e.direction === 'DEBIT');
  expect(debits).toHaveLength(settled.length);
  // A refused key was never claimed: retried alone, it pays.
  const retry = inputs[answers.findIndex((a) => a.errors?.[0]?.extensions?.code === 'LIMIT_EXCEEDED')];
  const again = expectOk(await signedGraphql(stack.payments!.url, CREATE, { input: retry }, operator)) as { createPayment: { status: string } };
  expect(again.createPayment.status).toBe('SETTLED');
});
