import type { Collection, Db } from 'mongodb';
import { findByIds, insertInOrder } from '../../runtime/mongo';
import { depositRequestId, ledgerEntryId, systemAccountKey } from './ids';
import { positionOf, type AccountStatus, type LedgerDirection, type LedgerPosition, type SystemAccountPurpose } from './ledger';

export interface CustomerDoc {
  _id: string;
  name: string;
  email: string;
  country: string;
  createdAt: Date;
}

export interface AccountDoc {
  _id: string;
  /** Null for the bank's own (system) accounts. */
  customerId: string | null;
  currency: string;
  status: AccountStatus;
  systemPurpose: SystemAccountPurpose | null;
  createdAt: Date;
}

export interface LedgerEntryDoc {
  _id: string;
  accountId: string;
  direction: LedgerDirection;
  amountMinor: bigint;
  currency: string;
  balanceAfterMinor: bigint;
  /** Posted minus held after this entry; absent while the account holds nothing (equal to balanceAfterMinor). */
  availableAfterMinor?: bigint;
  /** How this entry changed the account's held total (+ a hold, − a release or a capture); absent when it did not. */
  heldDeltaMinor?: bigint;
  sequence: number;
  transferId: string;
  paymentId: string | null;
  createdAt: Date;
}

/** Money entries move the posted balance; HOLD and RELEASE entries (holds.ts) move only the available one. */
export type LedgerEntryKind = LedgerDirection | 'HOLD' | 'RELEASE';

/** Any record of the ledger_entries collection, holds included: they share each account's sequence. */
export interface LedgerRecordDoc extends Omit<LedgerEntryDoc, 'direction'> {
  direction: LedgerEntryKind;
}

/** The registry of the bank's own accounts: one per purpose and currency. */
export interface SystemAccountDoc {
  _id: string;
  purpose: SystemAccountPurpose;
  currency: string;
  accountId: string;
  createdAt: Date;
}

/** A deposit's idempotency key, scoped to the caller, with a fingerprint of the request it first named. */
export interface DepositRequestDoc {
  _id: string;
  subject: string;
  idempotencyKey: string;
  fingerprint: string;
  accountId: string;
  transferId: string;
  createdAt: Date;
}

/** Minor units come back as BigInt (useBigInt64) unless a value was written as a small number. */
function toBigInt(value: unknown): bigint {
  return typeof value === 'bigint' ? value : BigInt(value as number);
}

export function normaliseEntry<T extends LedgerRecordDoc>(doc: T): T {
  const entry = { ...doc, amountMinor: toBigInt(doc.amountMinor), balanceAfterMinor: toBigInt(doc.balanceAfterMinor), sequence: Number(doc.sequence) };
  if (doc.availableAfterMinor !== undefined && doc.availableAfterMinor !== null) entry.availableAfterMinor = toBigInt(doc.availableAfterMinor);
  if (doc.heldDeltaMinor !== undefined && doc.heldDeltaMinor !== null) entry.heldDeltaMinor = toBigInt(doc.heldDeltaMinor);
  return entry;
}

/** The position a read row (sequence, balances) stands for. */
function rowPosition(row: { sequence: unknown; balanceAfterMinor: unknown; availableAfterMinor?: unknown }): LedgerPosition {
  const available = row.availableAfterMinor === undefined || row.availableAfterMinor === null ? null : toBigInt(row.availableAfterMinor);
  return positionOf({ sequence: Number(row.sequence), balanceAfterMinor: toBigInt(row.balanceAfterMinor), availableAfterMinor: available });
}

/**
 * The only code that touches the accounts subgraph's collections. Each index sits beside the
 * queries that need it; the unique ones are the concurrency guards (no transactions needed).
 */
export class AccountsRepository {
  readonly customers: Collection<CustomerDoc>;
  readonly accounts: Collection<AccountDoc>;
  readonly entries: Collection<LedgerEntryDoc>;
  /** The same collection, holds and releases included. */
  readonly records: Collection<LedgerRecordDoc>;
  readonly systemAccounts: Collection<SystemAccountDoc>;
  readonly depositRequests: Collection<DepositRequestDoc>;

  constructor(db: Db) {
    this.customers = db.collection<CustomerDoc>('customers');
    this.accounts = db.collection<AccountDoc>('accounts');
    this.entries = db.collection<LedgerEntryDoc>('ledger_entries');
    this.records = db.collection<LedgerRecordDoc>('ledger_entries');
    this.systemAccounts = db.collection<SystemAccountDoc>('system_accounts');
    this.depositRequests = db.collection<DepositRequestDoc>('deposit_requests');
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([
      // Customer.accounts
      this.accounts.createIndex({ customerId: 1 }, { name: 'customerId' }),
      // Gap-free sequence per account: two writers racing for the same next sequence, one wins.
      this.entries.createIndex({ accountId: 1, sequence: 1 }, { name: 'accountId_sequence', unique: true }),
      // One debit and one credit per transfer, ever: re-posting a transfer posts nothing new.
      this.entries.createIndex({ transferId: 1, direction: 1 }, { name: 'transferId_direction', unique: true }),
      this.systemAccounts.createIndex({ purpose: 1, currency: 1 }, { name: 'purpose_currency', unique: true }),
      this.depositRequests.createIndex({ subject: 1, idempotencyKey: 1 }, { name: 'subject_idempotencyKey', unique: true }),
    ]);
  }

  // Customers

  async insertCustomer(customer: CustomerDoc): Promise<void> {
    await this.customers.insertOne(customer);
  }

  findCustomersByIds(ids: readonly string[]): Promise<CustomerDoc[]> {
    return findByIds(this.customers, ids);
  }

  // Accounts

  async insertAccount(account: AccountDoc): Promise<void> {
    await this.accounts.insertOne(account);
  }

  findAccountsByIds(ids: readonly string[]): Promise<AccountDoc[]> {
    return findByIds(this.accounts, ids);
  }

  findAccountsByCustomerIds(customerIds: readonly string[]): Promise<AccountDoc[]> {
    return this.accounts.find({ customerId: { $in: [...customerIds] } }).sort({ createdAt: 1, _id: 1 }).toArray();
  }

  /** Frozen and closed accounts refuse transfers; set by operations tooling. */
  async setAccountStatus(id: string, status: AccountStatus): Promise<void> {
    await this.accounts.updateOne({ _id: id }, { $set: { status } });
  }

  findSystemAccount(purpose: SystemAccountPurpose, currency: string): Promise<SystemAccountDoc | null> {
    return this.systemAccounts.findOne({ _id: systemAccountKey(purpose, currency) });
  }

  async insertSystemAccount(entry: SystemAccountDoc): Promise<void> {
    await this.systemAccounts.insertOne(entry);
  }

  listSystemAccounts(): Promise<SystemAccountDoc[]> {
    return this.systemAccounts.find({}).toArray();
  }

  // Ledger entries

  /** The account's newest entry (highest sequence), served by the (accountId, sequence) index. */
  async latestPosition(accountId: string): Promise<LedgerPosition | null> {
    const latest = await this.entries.find({ accountId }, { projection: { sequence: 1, balanceAfterMinor: 1, availableAfterMinor: 1 } }).sort({ sequence: -1 }).limit(1).next();
    return latest ? rowPosition(latest) : null;
  }

  /**
   * Each account's newest position, for any number of accounts, in one command: their entries'
   * sequences and balances, of which the highest sequence wins. The embedded store pushes the
   * accountId lookup down but no sort or limit (a sorted read of the newest entry reads every
   * entry of the account anyway), and its $group cannot count and sum at once (FerretDB 1.24
   * runs a group's accumulators over one shared iterator: all but the first see nothing).
   * For a hot account this reads its whole history, so the writer reads it this way only
   * when it remembers nothing of the account (ledgerPositionFrom otherwise). A read racing
   * another writer may miss its newest entry; an append at the next sequence is then a
   * duplicate key, never a wrong balance. Accounts without entries are at sequence 0.
   */
  async ledgerPositions(accountIds: readonly string[]): Promise<Map<string, LedgerPosition>> {
    const positions = new Map<string, LedgerPosition>(accountIds.map((id) => [id, { sequence: 0, balanceAfterMinor: 0n }]));
    const rows = this.entries.find(
      { accountId: { $in: [...accountIds] } },
      { projection: { _id: 0, accountId: 1, sequence: 1, balanceAfterMinor: 1, availableAfterMinor: 1 }, batchSize: 10_000 },
    );
    for await (const row of rows) {
      const sequence = Number(row.sequence);
      if (sequence > positions.get(row.accountId)!.sequence) positions.set(row.accountId, rowPosition(row));
    }
    return positions;
  }

  /**
   * The newest position of an account known to hold an entry at `floor`, reading only the
   * entries from there on: a range on a number, which the embedded store pushes down beside
   * the accountId lookup. Null when there is no entry at or past `floor`.
   */
  async ledgerPositionFrom(accountId: string, floor: number): Promise<LedgerPosition | null> {
    let newest: LedgerPosition | null = null;
    const rows = this.entries.find({ accountId, sequence: { $gte: floor } }, { projection: { _id: 0, sequence: 1, balanceAfterMinor: 1, availableAfterMinor: 1 } });
    for await (const row of rows) {
      const sequence = Number(row.sequence);
      if (sequence > (newest?.sequence ?? 0)) newest = rowPosition(row);
    }
    return newest;
  }

  /** Throws the driver's duplicate-key error when the sequence or the transfer leg is taken. */
  async insertEntry(entry: LedgerEntryDoc): Promise<void> {
    await this.entries.insertOne(entry);
  }

  /** Appends `entries` in order as one command: how many were written before a duplicate key (a sequence or a leg taken) stopped it (insertInOrder). */
  async appendEntries(entries: readonly LedgerEntryDoc[]): Promise<number> {
    return insertInOrder(this.entries, [...entries]);
  }

  /** Appends ledger records (holds, releases, captures) in order as one command: how many were written before a duplicate key stopped it. */
  async appendRecords(records: readonly LedgerRecordDoc[]): Promise<number> {
    return insertInOrder(this.records, [...records]);
  }

  /** Ledger records by id (point lookups). */
  async findRecords(ids: readonly string[]): Promise<LedgerRecordDoc[]> {
    return (await findByIds(this.records, ids)).map(normaliseEntry);
  }

  /** Both legs of a transfer, by their ids (point lookups: no scan on any store). */
  async findTransferLegs(transferId: string): Promise<LedgerEntryDoc[]> {
    return (await this.findLegsOf([transferId])).get(transferId) ?? [];
  }

  /** The posted legs of any number of transfers, debit first, in one read by `_id`; transfers with none are absent. */
  async findLegsOf(transferIds: readonly string[]): Promise<Map<string, LedgerEntryDoc[]>> {
    const ids = transferIds.flatMap((transferId) => [ledgerEntryId(transferId, 'DEBIT'), ledgerEntryId(transferId, 'CREDIT')]);
    const legs = new Map<string, LedgerEntryDoc[]>();
    for (const doc of await findByIds(this.entries, ids)) {
      const leg = normaliseEntry(doc);
      legs.set(leg.transferId, [...(legs.get(leg.transferId) ?? []), leg]);
    }
    for (const list of legs.values()) list.sort((a, b) => (a.direction === b.direction ? 0 : a.direction === 'DEBIT' ? -1 : 1));
    return legs;
  }

  /**
   * Each account's current balance for any number of accounts in one command: credits minus
   * debits, summed by the server. (The newest entry's balanceAfter is the same number — the
   * ledger tests hold it to that — but FerretDB 1.24's $group has neither $first nor $max.)
   * Accounts without entries are absent from the map.
   */
  async latestBalances(accountIds: readonly string[]): Promise<Map<string, bigint>> {
    const rows = await this.entries
      .aggregate<{ _id: { accountId: string; direction: LedgerDirection }; totalMinor: bigint | number }>([
        { $match: { accountId: { $in: [...accountIds] } } },
        { $group: { _id: { accountId: '$accountId', direction: '$direction' }, totalMinor: { $sum: '$amountMinor' } } },
      ])
      .toArray();
    const balances = new Map<string, bigint>();
    for (const row of rows) {
      // HOLD and RELEASE entries move no posted money.
      if (row._id.direction !== 'CREDIT' && row._id.direction !== 'DEBIT') continue;
      const total = toBigInt(row.totalMinor);
      const signed = row._id.direction === 'CREDIT' ? total : -total;
      balances.set(row._id.accountId, (balances.get(row._id.accountId) ?? 0n) + signed);
    }
    return balances;
  }

  /** A page of an account's money entries (DEBIT, CREDIT; holds are not money moved), newest first, strictly before `beforeSequence` when given. */
  async ledgerPage(accountId: string, beforeSequence: number | null, limit: number): Promise<LedgerEntryDoc[]> {
    const money = { direction: { $in: ['DEBIT', 'CREDIT'] as LedgerDirection[] } };
    const filter = beforeSequence === null ? { accountId, ...money } : { accountId, ...money, sequence: { $lt: beforeSequence } };
    return (await this.entries.find(filter, { batchSize: limit }).sort({ sequence: -1 }).limit(limit).toArray()).map(normaliseEntry);
  }

  /** Every entry of one account in sequence order (audits and tests). */
  async entriesOf(accountId: string): Promise<LedgerEntryDoc[]> {
    return (await this.entries.find({ accountId }).sort({ sequence: 1 }).toArray()).map(normaliseEntry);
  }

  // Deposit idempotency keys

  /** Throws the driver's duplicate-key error when the caller already used the key. */
  async insertDepositRequest(request: DepositRequestDoc): Promise<void> {
    await this.depositRequests.insertOne(request);
  }

  findDepositRequest(subject: string, idempotencyKey: string): Promise<DepositRequestDoc | null> {
    return this.depositRequests.findOne({ _id: depositRequestId(subject, idempotencyKey) });
  }
}
