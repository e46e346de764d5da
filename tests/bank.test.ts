import { auditBank } from './support/bank-invariants';
import { startTestStack, type TestStack } from './support/stack';

/**
 * The bank test (after Jepsen's): 8 funded accounts, 400 random transfers sent concurrently
 * through the gateway, a quarter re-sent with the same idempotency key, some for more than the
 * balance. Afterwards money is neither created nor lost.
 */
let stack: TestStack;

beforeAll(async () => {
  // The test is about money under concurrency, not latency: on a 2-core machine with the
  // embedded database a saga can take seconds under this load, so timeouts are generous.
  stack = await startTestStack({ COMPLIANCE_AUDIT_POLL_MS: '0', SUBGRAPH_TIMEOUT_MS: '120000', INTERNAL_TIMEOUT_MS: '120000' });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

async function data<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await stack.graphql<T>(query, variables);
  if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
  return result.data!;
}

const NAMES = ['Quentin Oakhurst', 'Beatrix Fenwold', 'Cornelius Ashby', 'Delphine Marrow', 'Evander Thistle', 'Fiora Lindqvist', 'Gideon Harcourt', 'Honora Blackwood'];

async function runPool<T>(tasks: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]();
      }
    }),
  );
  return results;
}

test('400 concurrent transfers, a quarter re-sent: money is conserved and every key makes one payment', async () => {
  const accounts: string[] = [];
  for (const name of NAMES) {
    const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', {
      i: { name, email: `${name.split(' ')[0].toLowerCase()}@example.com`, country: 'US' },
    });
    await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } });
    const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } });
    await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', {
      i: { accountId: openAccount.id, amount: { amount: '1000.00', currency: 'USD' }, idempotencyKey: `deposit-${openAccount.id}` },
    });
    accounts.push(openAccount.id);
  }

  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const requests = Array.from({ length: 400 }, (_, i) => {
    const source = Math.floor(random() * 8);
    const destination = (source + 1 + Math.floor(random() * 7)) % 8;
    // Mostly small; one in ten above any balance.
    const cents = i % 10 === 0 ? 150_000 + Math.floor(random() * 50_000) : 100 + Math.floor(random() * 29_900);
    return { idempotencyKey: `bank-${i}`, sourceAccountId: accounts[source], destinationAccountId: accounts[destination], amount: { amount: (cents / 100).toFixed(2), currency: 'USD' } };
  });
  const resent = requests.filter((_, i) => i % 4 === 0);
  const all = [...requests, ...resent].sort(() => random() - 0.5);
  const CREATE = 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }';
  const results = await runPool(all.map((input) => () => stack.graphql<{ createPayment: { id: string; status: string } }>(CREATE, { i: input })), 16);

  const idsByKey = new Map<string, Set<string>>();
  results.forEach((result, index) => {
    expect(result.errors).toBeUndefined();
    const key = all[index].idempotencyKey;
    if (!idsByKey.has(key)) idsByKey.set(key, new Set());
    idsByKey.get(key)!.add(result.data!.createPayment.id);
  });
  for (const ids of idsByKey.values()) expect(ids.size).toBe(1);

  // Every payment and every account's ledger, through the graph.
  const audit = await auditBank(data, accounts, 800_000n);
  expect(audit.payments).toHaveLength(idsByKey.size);
  console.log('bank test outcomes', audit.byStatus);
  // Every payment ended: settled, failed for want of funds, or declined by the risk rules
  // (fifty payments an hour from a day-old account trips velocity); only SETTLED moves money.
  expect(Object.keys(audit.byStatus).filter((status) => !['SETTLED', 'FAILED', 'DECLINED'].includes(status))).toEqual([]);
  expect(audit.byStatus.FAILED ?? 0).toBeGreaterThan(0);
  // Balances equal their entries and never go negative, the total is what was deposited,
  // and each settled payment has exactly its two entries.
  expect(audit.violations).toEqual([]);
}, 600_000);
