import type { CommandStartedEvent } from 'mongodb';
import { isolateDatabases } from '../../tests/support/database';
import { customerIdentity, errorCodes, operator, signedGraphql } from '../../tests/support/signed-client';
import { databaseName } from '../../runtime/mongo';
import { serviceIdentity, type Identity } from '../../runtime/identity';
import { startSubgraph, type StartedSubgraph } from '../../runtime/subgraph-main';
import { ledgerEntryId, newId } from './ids';
import { accountsSubgraph } from './index';
import { ledgerAppendConflicts } from './metrics';
import { AccountsRepository, type LedgerEntryDoc } from './repository';

isolateDatabases();
// Batches read by `_id` with one `$in` (as on MongoDB), so the batching test below counts one
// query per batch; on FerretDB `auto` would choose point reads (runtime/mongo.ts).
process.env.MONGODB_ID_READS = 'in';

// Two instances on one database: the unique indexes, not an in-process lock, keep them honest.
let first: StartedSubgraph;
let second: StartedSubgraph;
let repository: AccountsRepository;
const payments = serviceIdentity('payments');

beforeAll(async () => {
  [first, second] = await Promise.all([startSubgraph(accountsSubgraph, { port: 0 }), startSubgraph(accountsSubgraph, { port: 0 })]);
  repository = new AccountsRepository(first.mongo.database('accounts'));
});
afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

const call = (query: string, variables: Record<string, unknown>, identity: Identity = operator, instance = first) =>
  signedGraphql(instance.url, query, variables, identity);

const POST_TRANSFER = `mutation($input: PostTransferInput!) { postTransfer(input: $input) { transferId debitEntryId creditEntryId } }`;
const SYSTEM_ACCOUNT = `query($purpose: SystemAccountPurpose!, $currency: Currency!) { systemAccountId(purpose: $purpose, currency: $currency) }`;

async function customerWithAccount(currency: string, deposit?: string): Promise<{ customerId: string; accountId: string }> {
  const created = await call(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
    input: { name: 'Ledger Tester', email: `t${newId('cus')}@example.com`, country: 'NL' },
  });
  const customerId = created.data!.createCustomer.id;
  const opened = await call(`mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }`, { input: { customerId, currency } });
  const accountId = opened.data!.openAccount.id;
  if (deposit) {
    const deposited = await call(`mutation($input: DepositFundsInput!) { depositFunds(input: $input) { id } }`, {
      input: { accountId, amount: { amount: deposit, currency }, idempotencyKey: `seed-${accountId}` },
    });
    expect(deposited.errors).toBeUndefined();
  }
  return { customerId, accountId };
}

/** Checks one account's chain of entries and returns its balance. */
function auditChain(entries: LedgerEntryDoc[], mayGoNegative: boolean): bigint {
  let balance = 0n;
  entries.forEach((entry, index) => {
    expect(entry.sequence).toBe(index + 1);
    balance += entry.direction === 'CREDIT' ? entry.amountMinor : -entry.amountMinor;
    expect(entry.balanceAfterMinor).toBe(balance);
    expect(entry.amountMinor > 0n).toBe(true);
    if (!mayGoNegative) expect(entry.balanceAfterMinor >= 0n).toBe(true);
  });
  return balance;
}

describe('postTransfer', () => {
  it('is for our own services only', async () => {
    const { customerId, accountId } = await customerWithAccount('USD', '10.00');
    const { accountId: otherId } = await customerWithAccount('USD');
    const input = { transferId: 'tx-forbidden', debitAccountId: accountId, creditAccountId: otherId, amountMinor: '100', currency: 'USD' };
    expect(errorCodes(await call(POST_TRANSFER, { input }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await call(POST_TRANSFER, { input }, customerIdentity(customerId)))).toEqual(['FORBIDDEN']);
    expect(await repository.findTransferLegs('tx-forbidden')).toEqual([]);
  });

  it('refuses currency mismatches, frozen accounts, overdrafts and a reused transferId', async () => {
    const { accountId: usd } = await customerWithAccount('USD', '10.00');
    const { accountId: usd2 } = await customerWithAccount('USD');
    const { accountId: eur } = await customerWithAccount('EUR');
    const transfer = (transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: string, currency = 'USD') =>
      call(POST_TRANSFER, { input: { transferId, debitAccountId, creditAccountId, amountMinor, currency } }, payments);

    expect(errorCodes(await transfer('tx-mismatch-1', usd, eur, '100'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await transfer('tx-mismatch-2', usd, usd2, '100', 'EUR'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await transfer('tx-overdraw', usd, usd2, '1001'))).toEqual(['INSUFFICIENT_FUNDS']);
    expect(errorCodes(await transfer('tx-zero', usd, usd2, '0'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await transfer('tx-self', usd, usd, '1'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await transfer('tx-ghost', usd, 'acc_000000000000000000000000', '1'))).toEqual(['NOT_FOUND']);

    const ok = await transfer('tx-ok', usd, usd2, '1000');
    expect(ok.errors).toBeUndefined();
    const again = await transfer('tx-ok', usd, usd2, '1000');
    expect(again.data).toEqual(ok.data);
    expect(errorCodes(await transfer('tx-ok', usd, usd2, '999'))).toEqual(['IDEMPOTENCY_KEY_REUSED']);

    await repository.setAccountStatus(usd2, 'FROZEN');
    const frozen = await transfer('tx-frozen', usd2, usd, '1');
    expect(errorCodes(frozen)).toEqual(['FORBIDDEN']);
    expect(frozen.errors![0].message).toMatch(/frozen/);

    for (const id of ['tx-mismatch-1', 'tx-mismatch-2', 'tx-overdraw', 'tx-zero', 'tx-self', 'tx-ghost', 'tx-frozen']) {
      expect(await repository.findTransferLegs(id)).toEqual([]);
    }
    expect(auditChain(await repository.entriesOf(usd), false)).toBe(0n);
    expect(auditChain(await repository.entriesOf(usd2), false)).toBe(1000n);
  });

  it('completes a transfer whose credit leg was never posted, exactly once', async () => {
    const { accountId: from } = await customerWithAccount('EUR', '50.00');
    const { accountId: to } = await customerWithAccount('EUR');
    // Simulate a crash after the debit: only the debit entry exists.
    const latest = await repository.latestPosition(from);
    await repository.insertEntry({
      _id: ledgerEntryId('tx-crashed', 'DEBIT'),
      accountId: from,
      direction: 'DEBIT',
      amountMinor: 1200n,
      currency: 'EUR',
      balanceAfterMinor: latest!.balanceAfterMinor - 1200n,
      sequence: latest!.sequence + 1,
      transferId: 'tx-crashed',
      paymentId: 'pay_crashed',
      createdAt: new Date(),
    });
    const input = { transferId: 'tx-crashed', paymentId: 'pay_crashed', debitAccountId: from, creditAccountId: to, amountMinor: '1200', currency: 'EUR' };
    const results = await Promise.all([call(POST_TRANSFER, { input }, payments), call(POST_TRANSFER, { input }, payments, second)]);
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(results[0].data).toEqual(results[1].data);
    await call(POST_TRANSFER, { input }, payments);

    const legs = await repository.findTransferLegs('tx-crashed');
    expect(legs.map((leg) => leg.direction).sort()).toEqual(['CREDIT', 'DEBIT']);
    expect(auditChain(await repository.entriesOf(from), false)).toBe(3800n);
    expect(auditChain(await repository.entriesOf(to), false)).toBe(1200n);
    const account = await call(`query($id: ID!) { account(id: $id) { balance { amount } ledger(first: 1) { edges { node { paymentId amount { amount } } } } } }`, { id: to });
    expect(account.data!.account).toEqual({ balance: { amount: '12.00' }, ledger: { edges: [{ node: { paymentId: 'pay_crashed', amount: { amount: '12.00' } } }] } });
  });

  it('keeps the books balanced under ~200 concurrent transfers from two instances', async () => {
    // Currencies no other test here uses, so every account holding them is listed below.
    const usd = await Promise.all([1, 2, 3, 4, 5, 6].map(() => customerWithAccount('CHF', '100.00')));
    const jpy = await Promise.all([1, 2].map(() => customerWithAccount('JPY', '10000')));
    const settlement = (await call(SYSTEM_ACCOUNT, { purpose: 'EXTERNAL_SETTLEMENT', currency: 'CHF' }, payments)).data!.systemAccountId as string;
    expect(settlement).toBe('acc_sys_external_settlement_chf');

    // Deterministic pseudo-random plan so a failure can be replayed.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    type Plan = { transferId: string; debitAccountId: string; creditAccountId: string; amountMinor: string; currency: string };
    const plans: Plan[] = [];
    for (let i = 0; i < 170; i++) {
      if (i % 10 === 9) {
        const [a, b] = [jpy[0].accountId, jpy[1].accountId];
        plans.push({ transferId: `cc-${i}`, debitAccountId: i % 20 === 9 ? a : b, creditAccountId: i % 20 === 9 ? b : a, amountMinor: String(1 + random(4000)), currency: 'JPY' });
        continue;
      }
      const from = random(usd.length);
      const debit = usd[from].accountId;
      // Mostly between customers; every 13th pays out to the bank's settlement account.
      const credit = i % 13 === 0 ? settlement : usd[(from + 1 + random(usd.length - 1)) % usd.length].accountId;
      // Up to 40.00 against 100.00 balances: some of these overdraw their account.
      plans.push({ transferId: `cc-${i}`, debitAccountId: debit, creditAccountId: credit, amountMinor: String(1 + random(4000)), currency: 'CHF' });
    }
    // Repeat ~30 transfers: same id, same request, racing the original.
    const requests = [...plans, ...plans.filter((_, i) => i % 6 === 0)];
    const conflictsBefore = (await ledgerAppendConflicts.get()).values[0]?.value ?? 0;
    const responses = await Promise.all(
      requests.map((input, i) => call(POST_TRANSFER, { input }, payments, i % 2 === 0 ? first : second).then((response) => ({ input, response }))),
    );
    expect(requests.length).toBeGreaterThanOrEqual(195);
    const conflicts = ((await ledgerAppendConflicts.get()).values[0]?.value ?? 0) - conflictsBefore;
    // The two instances really raced for sequences (typically ~40 retried appends), so the
    // duplicate-key retry path, not only the in-process queue, is what kept the books right.
    expect(conflicts).toBeGreaterThan(0);

    const succeeded = new Set<string>();
    let insufficient = 0;
    for (const { input, response } of responses) {
      if (response.errors) {
        expect(errorCodes(response)).toEqual(['INSUFFICIENT_FUNDS']);
        insufficient++;
      } else {
        succeeded.add(input.transferId);
        expect(response.data!.postTransfer.transferId).toBe(input.transferId);
      }
    }
    expect(succeeded.size).toBeGreaterThan(40);
    expect(insufficient).toBeGreaterThan(0);

    for (const plan of plans) {
      const legs = await repository.findTransferLegs(plan.transferId);
      if (succeeded.has(plan.transferId)) {
        expect(legs).toHaveLength(2);
        expect(legs.find((leg) => leg.direction === 'DEBIT')!.accountId).toBe(plan.debitAccountId);
        expect(legs.find((leg) => leg.direction === 'CREDIT')!.accountId).toBe(plan.creditAccountId);
        for (const leg of legs) expect(leg.amountMinor).toBe(BigInt(plan.amountMinor));
      } else {
        expect(legs).toHaveLength(0);
      }
    }

    // Books per currency over every account of this database, the bank's own included.
    const systemAccounts = await repository.listSystemAccounts();
    const allAccounts = [
      ...[...usd, ...jpy].map(({ accountId }) => ({ accountId, system: false })),
      ...systemAccounts.map((system) => ({ accountId: system.accountId, system: true })),
    ];
    const totals = new Map<string, bigint>();
    const balances = new Map<string, bigint>();
    for (const { accountId, system } of allAccounts) {
      const entries = await repository.entriesOf(accountId);
      const balance = auditChain(entries, system);
      balances.set(accountId, balance);
      if (entries.length) totals.set(entries[0].currency, (totals.get(entries[0].currency) ?? 0n) + balance);
    }
    expect(systemAccounts.map((system) => `${system.purpose}:${system.currency}`)).toEqual(
      expect.arrayContaining(['FUNDING:CHF', 'FUNDING:JPY', 'EXTERNAL_SETTLEMENT:CHF']),
    );
    expect(totals.get('CHF')).toBe(0n);
    expect(totals.get('JPY')).toBe(0n);
    // No entry in these currencies sits on an account the audit missed.
    const holders = await repository.entries.distinct('accountId', { currency: { $in: ['CHF', 'JPY'] } });
    const audited = new Set(allAccounts.map((a) => a.accountId));
    for (const holder of holders) expect(audited.has(holder as string)).toBe(true);

    // The balance the graph shows is the ledger's.
    const shown = await call(`query($ids: [ID!]!) { accountFacts(ids: $ids) { id balanceMinor } }`, { ids: [...usd, ...jpy].map((a) => a.accountId) }, payments);
    for (const fact of shown.data!.accountFacts) expect(BigInt(fact.balanceMinor)).toBe(balances.get(fact.id));
  });
});

describe('batching', () => {
  it('resolves 50 account references with a small constant number of database commands', async () => {
    const created = await Promise.all(Array.from({ length: 50 }, (_, i) => customerWithAccount(i % 2 ? 'USD' : 'EUR', i % 5 ? '1.00' : undefined)));
    const database = databaseName('accounts');
    const commands: string[] = [];
    const listener = (event: CommandStartedEvent) => {
      if (event.databaseName === database) commands.push(event.commandName);
    };
    first.mongo.client.on('commandStarted', listener);
    try {
      const response = await call(
        `query($representations: [_Any!]!) { _entities(representations: $representations) {
          ... on Account { id currency balance { amount } customer { id name accounts { id } } } } }`,
        { representations: created.map(({ accountId }) => ({ __typename: 'Account', id: accountId })) },
      );
      expect(response.errors).toBeUndefined();
      const entities = response.data!._entities as { id: string; balance: { amount: string }; customer: { id: string; accounts: { id: string }[] } }[];
      expect(entities.map((entity) => entity.id)).toEqual(created.map(({ accountId }) => accountId));
      entities.forEach((entity, i) => {
        expect(entity.balance.amount).toBe(i % 5 ? '1.00' : '0.00');
        expect(entity.customer).toMatchObject({ id: created[i].customerId, accounts: [{ id: created[i].accountId }] });
      });
    } finally {
      first.mongo.client.off('commandStarted', listener);
    }
    // accounts by id, balances, customers by id, accounts by customer: one command each.
    expect(commands.sort()).toEqual(['aggregate', 'find', 'find', 'find']);
  });
});
