import { auditBank } from './support/bank-invariants';
import { auditFxBank } from './support/fx-bank-invariants';
import { signedGraphql } from './support/signed-client';
import { serviceIdentity } from '../runtime/identity';
import { HOLD_PLANS, observeAvailable, runHold, type HoldPlan } from './support/hold-bank';
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
  stack = await startTestStack({ COMPLIANCE_AUDIT_POLL_MS: '0', PAYGRAPH_HOLD_SWEEP_INTERVAL_MS: '500', SUBGRAPH_TIMEOUT_MS: '120000', INTERNAL_TIMEOUT_MS: '120000' });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

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

/** A repeatable pseudo-random sequence in [0, 1) (a linear congruential generator): the same run every time. */
function seededRandom(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

type PaymentRequest = { idempotencyKey: string; sourceAccountId: string; destinationAccountId: string; amount: { amount: string; currency: string } };

/**
 * Sends every request, a quarter of them twice, in a shuffled order, 16 at a time, and checks
 * that each idempotency key made exactly one payment: the payment ids by key.
 */
async function sendWithResends(requests: PaymentRequest[], random: () => number): Promise<Map<string, Set<string>>> {
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
  return idsByKey;
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

  const random = seededRandom(42);
  const requests = Array.from({ length: 400 }, (_, i) => {
    const source = Math.floor(random() * 8);
    const destination = (source + 1 + Math.floor(random() * 7)) % 8;
    // Mostly small; one in ten above any balance.
    const cents = i % 10 === 0 ? 150_000 + Math.floor(random() * 50_000) : 100 + Math.floor(random() * 29_900);
    return { idempotencyKey: `bank-${i}`, sourceAccountId: accounts[source], destinationAccountId: accounts[destination], amount: { amount: (cents / 100).toFixed(2), currency: 'USD' } };
  });
  const idsByKey = await sendWithResends(requests, random);

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

// ---- Cross-currency transfers in the mix (see tests/support/fx-bank-invariants.ts) ----

describe('with cross-currency transfers between accounts', () => {
  const CURRENCIES = { USD: '1000.00', EUR: '1000.00', JPY: '100000' } as const;
  /** The house's own accounts are not public: read the ledger as our services do. */
  const asService = async <T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const result = await signedGraphql<T>(stack.subgraphUrls.accounts, query, variables, serviceIdentity('bank-test'));
    if (result.errors?.length) throw new Error(JSON.stringify(result.errors));
    return result.data!;
  };

  test('240 concurrent transfers across USD, EUR and JPY accounts, a quarter re-sent: per currency money is conserved, the house FX accounts included', async () => {
    const accounts: { id: string; currency: keyof typeof CURRENCIES }[] = [];
    for (const [i, name] of NAMES.slice(0, 4).entries()) {
      const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', {
        i: { name: `${name} FX`, email: `fx-${i}@example.com`, country: 'US' },
      });
      await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } });
      for (const [currency, amount] of Object.entries(CURRENCIES) as [keyof typeof CURRENCIES, string][]) {
        const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency } });
        await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', {
          i: { accountId: openAccount.id, amount: { amount, currency }, idempotencyKey: `deposit-${openAccount.id}` },
        });
        accounts.push({ id: openAccount.id, currency });
      }
    }

    const random = seededRandom(7);
    const requests = Array.from({ length: 240 }, (_, i) => {
      const source = accounts[Math.floor(random() * accounts.length)];
      const others = accounts.filter((a) => a.id !== source.id);
      const destination = others[Math.floor(random() * others.length)];
      // Mostly small; one in ten above any balance. JPY has no minor digits.
      const minor = i % 10 === 0 ? 150_000 + Math.floor(random() * 50_000) : 100 + Math.floor(random() * 29_900);
      const amount = source.currency === 'JPY' ? String(minor) : (minor / 100).toFixed(2);
      return { idempotencyKey: `bank-fx-${i}`, sourceAccountId: source.id, destinationAccountId: destination.id, amount: { amount, currency: source.currency } };
    });
    const idsByKey = await sendWithResends(requests, random);
    const paymentIds = new Set([...idsByKey.values()].flatMap((ids) => [...ids]));

    const houseAccounts: string[] = [];
    for (const currency of Object.keys(CURRENCIES)) {
      houseAccounts.push((await asService('query($c: Currency!) { systemAccountId(purpose: FX_POSITION, currency: $c) }', { c: currency })).systemAccountId);
    }
    const deposited = { USD: 400_000n, EUR: 400_000n, JPY: 400_000n };
    const audit = await auditFxBank(data, asService, accounts.map((a) => a.id), houseAccounts, deposited, paymentIds);
    console.log('bank test with FX outcomes', audit.byStatus, 'FX transfers settled', audit.fxSettled);
    expect(Object.keys(audit.byStatus).filter((status) => !['SETTLED', 'FAILED', 'DECLINED'].includes(status))).toEqual([]);
    expect(Object.values(audit.byStatus).reduce((a, b) => a + b, 0)).toBe(paymentIds.size);
    expect(audit.fxSettled).toBeGreaterThan(0);
    expect(audit.byStatus.FAILED ?? 0).toBeGreaterThan(0);
    expect(audit.violations).toEqual([]);
  }, 600_000);
});

// ---- Two-phase payments (holds) in the mix (see tests/support/hold-bank.ts) ----

test('concurrent authorizations captured in full and in part, voided, raced and left to expire, mixed with payments: money is conserved and available never goes below zero', async () => {
  const accounts: string[] = [];
  for (const [i, name] of NAMES.slice(0, 6).entries()) {
    const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', {
      i: { name: `${name} Hold`, email: `hold-${i}@example.com`, country: 'US' },
    });
    await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'ENHANCED' } });
    const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } });
    await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', {
      i: { accountId: openAccount.id, amount: { amount: '500.00', currency: 'USD' }, idempotencyKey: `deposit-${openAccount.id}` },
    });
    accounts.push(openAccount.id);
  }

  const random = seededRandom(2026);
  type Operation = { kind: 'pay'; input: Record<string, unknown> } | { kind: 'hold'; plan: HoldPlan; input: Record<string, unknown> };
  const operations: Operation[] = Array.from({ length: 200 }, (_, i) => {
    const source = Math.floor(random() * accounts.length);
    const destination = (source + 1 + Math.floor(random() * (accounts.length - 1))) % accounts.length;
    // Amounts big enough that holds and payments compete for the same money.
    const cents = 1_000 + Math.floor(random() * 19_000);
    const base = { sourceAccountId: accounts[source], destinationAccountId: accounts[destination], amount: { amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`, currency: 'USD' } };
    if (i % 2 === 0) return { kind: 'pay', input: { ...base, idempotencyKey: `bank-hold-pay-${i}` } };
    const plan = HOLD_PLANS[Math.floor(random() * HOLD_PLANS.length)];
    return { kind: 'hold', plan, input: { ...base, idempotencyKey: `bank-hold-${i}` } };
  });
  const partOf = (held: bigint) => 1n + BigInt(Math.floor(random() * 1_000_000)) % held;

  const observer = observeAvailable(stack.graphql, accounts);
  const CREATE = 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }';
  const paymentIds = new Set<string>();
  const unexpected: unknown[] = [];
  await runPool(
    operations.map((operation) => async () => {
      if (operation.kind === 'pay') {
        const result = await stack.graphql<{ createPayment: { id: string } }>(CREATE, { i: operation.input });
        if (result.errors?.length) unexpected.push(...result.errors);
        else paymentIds.add(result.data!.createPayment.id);
        return;
      }
      // Holds left alone lapse a few seconds after they are asked for.
      const input = operation.plan === 'expire' ? { ...operation.input, expiresAt: new Date(Date.now() + 5_000).toISOString() } : operation.input;
      const outcome = await runHold(stack.graphql, input, operation.plan, partOf);
      if (outcome?.id) paymentIds.add(outcome.id);
      unexpected.push(...(outcome?.errors ?? []));
    }),
    12,
  );
  expect(unexpected).toEqual([]);

  // The holds left alone lapse at expiresAt and the sweeper releases them.
  const PAGE = 'query($ids: [ID!]) { payments(filter: { ids: $ids }, first: 100) { edges { node { id status } } } }';
  const statuses = async () => {
    const ids = [...paymentIds];
    const nodes: { id: string; status: string }[] = [];
    for (let i = 0; i < ids.length; i += 100) nodes.push(...(await data(PAGE, { ids: ids.slice(i, i + 100) })).payments.edges.map((e: any) => e.node));
    return nodes;
  };
  for (let attempt = 0; attempt < 240 && (await statuses()).some((p) => ['AUTHORIZED', 'PENDING', 'PROCESSING'].includes(p.status)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const observed = await observer.stop();
  expect(observed.readings).toBeGreaterThan(0);
  expect(observed.violations).toEqual([]);

  const audit = await auditBank(data, accounts, 300_000n, { paymentIds });
  console.log('bank test with holds outcomes', audit.byStatus, 'balance readings', observed.readings);
  // Every hold ended captured (SETTLED), voided or expired; payments settled, failed or were declined.
  expect(Object.keys(audit.byStatus).filter((status) => !['SETTLED', 'FAILED', 'DECLINED', 'VOIDED', 'EXPIRED'].includes(status))).toEqual([]);
  expect(audit.payments).toHaveLength(paymentIds.size);
  for (const status of ['SETTLED', 'VOIDED', 'EXPIRED']) expect(audit.byStatus[status] ?? 0).toBeGreaterThan(0);
  expect(audit.violations).toEqual([]);
  // Nothing is held any more: every account's available balance is its posted balance.
  for (const id of accounts) {
    const { account } = await data('query($id: ID!) { account(id: $id) { balance { minorUnits } availableBalance { minorUnits } pendingBalance { minorUnits } } }', { id });
    expect([account.availableBalance.minorUnits, account.pendingBalance.minorUnits]).toEqual([account.balance.minorUnits, '0']);
  }
}, 600_000);
