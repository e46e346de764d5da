import { commandNames, commandsOf as commandsSent } from '../../tests/support/commands';
import { isolateDatabases } from '../../tests/support/database';
import { connectMongo, readMongoConfig, type MongoHandle } from '../../runtime/mongo';
import { ledgerEntryId, newId } from './ids';
import type { TransferRequest } from './ledger';
import { LedgerService } from './ledger-service';
import { ledgerAppendConflicts } from './metrics';
import { AccountsRepository, type LedgerEntryDoc } from './repository';

isolateDatabases();
process.env.MONGODB_ID_READS = 'in';

/**
 * The ledger writer against the real embedded store: group commit, an insert stopped part-way
 * by another writer, refusals re-read. Two LedgerServices on one database are two processes.
 */
let mongo: MongoHandle;
let repository: AccountsRepository;
let funding: string;

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
  repository = new AccountsRepository(mongo.database('accounts'));
  await repository.ensureIndexes();
  funding = await new LedgerService(repository).systemAccountId('FUNDING', 'USD');
});
afterAll(async () => {
  await mongo?.close();
});

async function openAccount(): Promise<string> {
  const id = newId('acc');
  await repository.insertAccount({ _id: id, customerId: newId('cus'), currency: 'USD', status: 'ACTIVE', systemPurpose: null, createdAt: new Date() });
  return id;
}

let transfers = 0;
const request = (debitAccountId: string, creditAccountId: string, amountMinor: bigint, transferId = `t-${++transfers}`): TransferRequest => ({
  transferId,
  paymentId: null,
  debitAccountId,
  creditAccountId,
  amountMinor,
  currency: 'USD',
});

/** The commands `work` sends, by name. */
async function commandsOf(work: () => Promise<unknown>): Promise<string[]> {
  return commandNames(await commandsSent(mongo.client, repository.entries.dbName, work)).sort();
}

/** Checks one account's chain of entries and returns its balance. */
function auditChain(entries: LedgerEntryDoc[]): bigint {
  let balance = 0n;
  entries.forEach((entry, index) => {
    expect(entry.sequence).toBe(index + 1);
    balance += entry.direction === 'CREDIT' ? entry.amountMinor : -entry.amountMinor;
    expect(entry.balanceAfterMinor).toBe(balance);
    expect(balance >= 0n).toBe(true);
  });
  return balance;
}

const conflicts = async () => (await ledgerAppendConflicts.get()).values[0]?.value ?? 0;

describe('LedgerService', () => {
  it('posts the transfers that arrive together as one insert, behind one read of their accounts', async () => {
    const ledger = new LedgerService(repository);
    const accounts = await Promise.all(Array.from({ length: 8 }, openAccount));
    await Promise.all(accounts.map((id) => ledger.postTransfer(request(funding, id, 10_000n))));
    const plans = Array.from({ length: 40 }, (_, i) => request(accounts[i % 8], accounts[(i * 3 + 1) % 8], BigInt(100 + i)));

    let posted: unknown[] = [];
    expect(await commandsOf(async () => (posted = await Promise.all(plans.map((plan) => ledger.postTransfer(plan)))))).toEqual(['find', 'insert']);
    expect(posted).toHaveLength(40);
    const total = (await Promise.all(accounts.map(async (id) => auditChain(await repository.entriesOf(id))))).reduce((a, b) => a + b, 0n);
    expect(total).toBe(80_000n);
  });

  it('reads the positions of accounts it remembers nothing of in one command', async () => {
    const [a, b] = await Promise.all([openAccount(), openAccount()]);
    await new LedgerService(repository).postTransfer(request(funding, a, 500n));
    await new LedgerService(repository).postTransfer(request(funding, b, 700n));
    // A new process: neither a nor b is remembered. Accounts, both positions, both legs.
    const fresh = new LedgerService(repository);
    expect(await commandsOf(() => fresh.postTransfer(request(a, b, 200n)))).toEqual(['find', 'find', 'insert']);
    expect(await commandsOf(() => fresh.postTransfer(request(b, a, 100n)))).toEqual(['find', 'insert']);
    expect(auditChain(await repository.entriesOf(a))).toBe(400n);
    expect(auditChain(await repository.entriesOf(b))).toBe(800n);
  });

  it('keeps what an insert wrote before another process took a sequence, and posts the rest after re-reading', async () => {
    const here = new LedgerService(repository);
    const there = new LedgerService(repository);
    const [a, b, c, d] = await Promise.all([openAccount(), openAccount(), openAccount(), openAccount()]);
    for (const id of [a, b, c, d]) await here.postTransfer(request(funding, id, 1_000n));
    // Another process moves b: this one's remembered position of b is now behind.
    await there.postTransfer(request(b, d, 100n));

    const before = await conflicts();
    const plans = [request(a, c, 1n), request(b, c, 2n), request(c, a, 3n)];
    const commands = await commandsOf(() => Promise.all(plans.map((plan) => here.postTransfer(plan))));
    // Batch 1: accounts, insert (stopped at b's debit), the legs of that transfer. Batch 2:
    // accounts, b from the sequence it lost, insert.
    expect(commands).toEqual(['find', 'find', 'find', 'find', 'insert', 'insert']);
    expect((await conflicts()) - before).toBe(1);
    expect(auditChain(await repository.entriesOf(a))).toBe(1_002n);
    expect(auditChain(await repository.entriesOf(b))).toBe(898n);
    expect(auditChain(await repository.entriesOf(c))).toBe(1_000n);
    expect(auditChain(await repository.entriesOf(d))).toBe(1_100n);
  });

  it('re-reads a remembered balance before refusing a transfer for want of funds', async () => {
    const here = new LedgerService(repository);
    const there = new LedgerService(repository);
    const [a, b] = await Promise.all([openAccount(), openAccount()]);
    await here.postTransfer(request(funding, a, 100n));
    await here.postTransfer(request(a, b, 100n));
    // Another process funds a; this one still remembers a at zero.
    await there.postTransfer(request(funding, a, 500n));
    await expect(here.postTransfer(request(a, b, 400n))).resolves.toMatchObject({ debitEntryId: expect.any(String) });
    await expect(here.postTransfer(request(a, b, 101n))).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(auditChain(await repository.entriesOf(a))).toBe(100n);
  });

  it('posts a transferId once: the same request answers the same, a different one is refused as reused first', async () => {
    const ledger = new LedgerService(repository);
    const [a, b] = await Promise.all([openAccount(), openAccount()]);
    await ledger.postTransfer(request(funding, a, 1_000n));
    const first = request(a, b, 600n, `once-${a}`);
    // Arriving together: one post, one answer for both.
    const [x, y] = await Promise.all([ledger.postTransfer(first), ledger.postTransfer({ ...first })]);
    expect(y).toEqual(x);
    // Again, later (the insert finds the legs) and from another process (cold).
    await expect(ledger.postTransfer({ ...first })).resolves.toEqual(x);
    await expect(new LedgerService(repository).postTransfer({ ...first })).resolves.toEqual(x);
    // Different legs under the id: refused as reused, whether or not the funds would allow it.
    await expect(ledger.postTransfer({ ...first, amountMinor: 300n })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    await expect(ledger.postTransfer({ ...first, amountMinor: 900n })).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    // Different legs arriving together with the original: one posts, the other is refused.
    const second = request(a, b, 100n, `together-${a}`);
    const results = await Promise.allSettled([ledger.postTransfer(second), ledger.postTransfer({ ...second, amountMinor: 200n })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(auditChain(await repository.entriesOf(a))).toBe(300n);
    expect(auditChain(await repository.entriesOf(b))).toBe(700n);
  });

  it('finishes a half-posted transfer without checking funds or status again', async () => {
    const [a, b] = await Promise.all([openAccount(), openAccount()]);
    await new LedgerService(repository).postTransfer(request(funding, a, 1_200n));
    // A crash after the debit: the money has left a, and a has been frozen since.
    const half = request(a, b, 1_200n, `half-${a}`);
    await repository.insertEntry({
      _id: ledgerEntryId(half.transferId, 'DEBIT'), accountId: a, direction: 'DEBIT', amountMinor: 1_200n, currency: 'USD',
      balanceAfterMinor: 0n, sequence: 2, transferId: half.transferId, paymentId: null, createdAt: new Date(),
    });
    await repository.setAccountStatus(a, 'FROZEN');
    // A process that has never seen a: refused on fresh reads, then finished from the legs.
    await expect(new LedgerService(repository).postTransfer(half)).resolves.toMatchObject({ transferId: half.transferId });
    expect((await repository.findTransferLegs(half.transferId)).map((leg) => leg.direction)).toEqual(['DEBIT', 'CREDIT']);
    expect(auditChain(await repository.entriesOf(a))).toBe(0n);
    expect(auditChain(await repository.entriesOf(b))).toBe(1_200n);
  });

  it('keeps the books balanced when two processes post many transfers among a few accounts at once', async () => {
    const processes = [new LedgerService(repository), new LedgerService(repository)];
    const accounts = await Promise.all(Array.from({ length: 4 }, openAccount));
    for (const id of accounts) await processes[0].postTransfer(request(funding, id, 5_000n));
    let seed = 7;
    const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    const plans = Array.from({ length: 300 }, () => {
      const from = random(4);
      return request(accounts[from], accounts[(from + 1 + random(3)) % 4], BigInt(1 + random(900)));
    });
    const before = await conflicts();
    const results = await Promise.allSettled(plans.map((plan, i) => processes[i % 2].postTransfer(plan)));
    expect((await conflicts()) - before).toBeGreaterThan(0);
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    const posted = new Set(plans.filter((_, i) => results[i].status === 'fulfilled').map((plan) => plan.transferId));
    expect(posted.size).toBeGreaterThan(100);
    for (const plan of plans) expect(await repository.findTransferLegs(plan.transferId)).toHaveLength(posted.has(plan.transferId) ? 2 : 0);
    const total = (await Promise.all(accounts.map(async (id) => auditChain(await repository.entriesOf(id))))).reduce((a, b) => a + b, 0n);
    expect(total).toBe(20_000n);
  });
});
