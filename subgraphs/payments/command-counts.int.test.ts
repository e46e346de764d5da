import type { MongoClient } from 'mongodb';
import { commandNames, commandsBy } from '../../tests/support/commands';
import { isolateDatabases } from '../../tests/support/database';
import { operator, signedGraphql } from '../../tests/support/signed-client';
import { databaseName } from '../../runtime/mongo';
import { expectOk, fundedCustomer, startStack, type PaymentsStack } from '../../tests/support/in-process-stack';

/**
 * Database commands of one settled payment, per subgraph, on warm processes: the write path's
 * budget (≤ 20 in all). Exact for payments, whose commands this file is about; the others'
 * are pinned by their own command-count tests.
 */
isolateDatabases();
process.env.MONGODB_ID_READS = 'in';
process.env.PAYGRAPH_RESUME_INTERVAL_MS = '0';
process.env.COMPLIANCE_AUDIT_POLL_MS = '0';

let stack: PaymentsStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const CREATE = 'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }';

/** The commands `work` sends to each subgraph's database, by name. */
async function commandsOf(work: () => Promise<unknown>): Promise<Record<string, string[]>> {
  const watched = (name: string, subgraph: { mongo: { client: MongoClient } }) => ({ client: subgraph.mongo.client, database: databaseName(name) });
  const seen = await commandsBy(
    { accounts: watched('accounts', stack.accounts), payments: watched('payments', stack.payments!), risk: watched('risk', stack.risk), compliance: watched('compliance', stack.compliance) },
    work,
  );
  return Object.fromEntries(Object.entries(seen).map(([name, commands]) => [name, commandNames(commands)]));
}

test('a settled payment: payments claims the key, inserts the payment, writes PROCESSING and SETTLED, appends its events, clears the flag; ≤ 20 in all', async () => {
  const payer = await fundedCustomer(stack, { USD: '1000.00' });
  const payee = await fundedCustomer(stack, { USD: '0' });
  const pay = (i: number) => signedGraphql(stack.payments!.url, CREATE, { input: { idempotencyKey: `count-${Date.now()}-${i}`, sourceAccountId: payer.accounts.USD, destinationAccountId: payee.accounts.USD, amount: { amount: '1.00', currency: 'USD' } } }, operator);
  expect((expectOk(await pay(0)) as { createPayment: { status: string } }).createPayment.status).toBe('SETTLED'); // warms every cache
  const counts = await commandsOf(async () => {
    expect((expectOk(await pay(1)) as { createPayment: { status: string } }).createPayment.status).toBe('SETTLED');
  });
  expect(counts.payments).toEqual(['insert', 'insert', 'update', 'update', 'insert', 'update']);
  const total = Object.values(counts).reduce((sum, commands) => sum + commands.length, 0);
  expect(total).toBeLessThanOrEqual(20);
});
