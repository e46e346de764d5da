import { MongoClient, type Db, type Document } from 'mongodb';
import { ledgerEntryId } from '../subgraphs/accounts/ids';
import { systemAccountIdFor } from '../subgraphs/accounts/ledger';
import type { AccountDoc, CustomerDoc, LedgerEntryDoc, SystemAccountDoc } from '../subgraphs/accounts/repository';
import type { ComplianceCheckRecord, KycProfileRecord, ScreenedPaymentRecord } from '../subgraphs/compliance/repository';
import { checkIdFor } from '../subgraphs/compliance/repository';
import type { PaymentDoc } from '../subgraphs/payments/repository';
import { assessmentIdFor, type AssessmentRecord } from '../subgraphs/risk/repository';

/**
 * Benchmark volume written straight into each subgraph's collections, in the documents'
 * stored shapes (the repositories' types, derived `_id`s included), with bulk inserts: the
 * GraphQL API would take an hour to create 50,000 settled payments on this machine.
 * Deterministic, so reruns and every gateway see the same data; a marker makes reruns skip it.
 */
export interface VolumeSpec {
  customers: number;
  accountsPerCustomer: number;
  payments: number;
}

export const DEFAULT_VOLUME: VolumeSpec = { customers: 10_000, accountsPerCustomer: 2, payments: 50_000 };

/** What the benchmark needs to pick realistic ids for its operations. */
export interface SeededVolume {
  customerIds: string[];
  accountIds: string[];
  paymentIds: string[];
}

const DEPOSIT_MINOR = 100_000_000n; // 1,000,000.00 USD per account: seeded payments never overdraw
const DAY_MS = 86_400_000;
const MARKER_ID = 'bench-volume';

const hex24 = (n: number) => n.toString(16).padStart(24, '0');
/** One of `values`, at random (the benchmarks' reads pick their ids so). */
export const pickRandom = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)];

export const customerIdAt = (i: number) => `cus_${hex24(i + 1)}`;
export const accountIdAt = (i: number) => `acc_${hex24(i + 1)}`;
/** Payment ids sort by creation time like ObjectIds (4 bytes of seconds, then a counter). */
const paymentIdAt = (i: number, at: Date) => `pay_${Math.floor(at.getTime() / 1000).toString(16).padStart(8, '0')}${(i + 1).toString(16).padStart(16, '0')}`;

export function seededIds(spec: VolumeSpec = DEFAULT_VOLUME, epoch = seedEpoch()): SeededVolume {
  const accounts = spec.customers * spec.accountsPerCustomer;
  return {
    customerIds: Array.from({ length: spec.customers }, (_, i) => customerIdAt(i)),
    accountIds: Array.from({ length: accounts }, (_, i) => accountIdAt(i)),
    paymentIds: Array.from({ length: spec.payments }, (_, i) => paymentIdAt(i, paymentTime(i, spec, epoch))),
  };
}

/** Seeded history ends 40 days back: older than every risk velocity and AML window, so the benchmark's own payments are judged on their own. */
function seedEpoch(): number {
  return Date.UTC(2026, 0, 1);
}

function paymentTime(i: number, spec: VolumeSpec, epoch: number): Date {
  return new Date(epoch - 40 * DAY_MS - Math.floor(((spec.payments - i) * 60 * DAY_MS) / spec.payments));
}

async function insertInBatches(db: Db, collection: string, docs: Iterable<Document>, batch = 2000): Promise<number> {
  let pending: Document[] = [];
  let count = 0;
  const target = db.collection(collection);
  for (const doc of docs) {
    pending.push(doc);
    if (pending.length === batch) {
      await target.insertMany(pending, { ordered: false });
      count += pending.length;
      pending = [];
    }
  }
  if (pending.length) {
    await target.insertMany(pending, { ordered: false });
    count += pending.length;
  }
  return count;
}

interface SeedPlan {
  customers: CustomerDoc[];
  accounts: AccountDoc[];
  entries: LedgerEntryDoc[];
  systemAccount: SystemAccountDoc;
  payments: PaymentDoc[];
  assessments: AssessmentRecord[];
  profiles: KycProfileRecord[];
  screened: ScreenedPaymentRecord[];
  checks: ComplianceCheckRecord[];
}

/** Builds every document; ledger sequences and running balances are computed here, per account. */
function plan(spec: VolumeSpec, epoch: number): SeedPlan {
  const ids = seededIds(spec, epoch);
  const created = new Date(epoch - 120 * DAY_MS);
  const countries = ['US', 'US', 'US', 'GB', 'DE'];
  const customers: CustomerDoc[] = ids.customerIds.map((_id, i) => ({
    _id, name: `Bench Customer ${i + 1}`, email: `customer${i + 1}@bench.example.com`, country: countries[i % countries.length], createdAt: created,
  }));
  const accounts: AccountDoc[] = ids.accountIds.map((_id, i) => ({
    _id, customerId: ids.customerIds[Math.floor(i / spec.accountsPerCustomer)], currency: 'USD', status: 'ACTIVE', systemPurpose: null, createdAt: created,
  }));
  const funding = systemAccountIdFor('FUNDING', 'USD');
  accounts.push({ _id: funding, customerId: null, currency: 'USD', status: 'ACTIVE', systemPurpose: 'FUNDING', createdAt: created });
  const systemAccount: SystemAccountDoc = { _id: 'FUNDING:USD', purpose: 'FUNDING', currency: 'USD', accountId: funding, createdAt: created };

  // Each account's running position, so every entry's sequence and balanceAfter are the ledger's own.
  const positions = new Map<string, { sequence: number; balance: bigint }>();
  const entries: LedgerEntryDoc[] = [];
  const post = (transferId: string, paymentId: string | null, debit: string, credit: string, amountMinor: bigint, at: Date) => {
    for (const [accountId, direction] of [[debit, 'DEBIT'], [credit, 'CREDIT']] as const) {
      const position = positions.get(accountId) ?? { sequence: 0, balance: 0n };
      position.sequence += 1;
      position.balance += direction === 'CREDIT' ? amountMinor : -amountMinor;
      positions.set(accountId, position);
      entries.push({
        _id: ledgerEntryId(transferId, direction), accountId, direction, amountMinor, currency: 'USD', balanceAfterMinor: position.balance,
        sequence: position.sequence, transferId, paymentId, createdAt: at,
      });
    }
  };
  ids.accountIds.forEach((accountId, i) => post(`seed-deposit-${i + 1}`, null, funding, accountId, DEPOSIT_MINOR, created));

  const payments: PaymentDoc[] = [];
  const assessments: AssessmentRecord[] = [];
  const screened: ScreenedPaymentRecord[] = [];
  const checks: ComplianceCheckRecord[] = [];
  const levels = ['LOW', 'LOW', 'LOW', 'MEDIUM'] as const;
  const accountCount = ids.accountIds.length;
  for (let i = 0; i < spec.payments; i++) {
    const at = paymentTime(i, spec, epoch);
    const _id = ids.paymentIds[i];
    const sourceIndex = i % accountCount;
    // A destination of another customer: jump by an odd stride past this customer's own accounts.
    const destinationIndex = (sourceIndex + spec.accountsPerCustomer * (1 + (i % 97))) % accountCount;
    const source = accounts[sourceIndex];
    const destination = accounts[destinationIndex];
    const amountMinor = BigInt(100 + ((i * 7919) % 49_900)); // 1.00 to 500.00 USD
    const sourceCustomer = customers[Math.floor(sourceIndex / spec.accountsPerCustomer)];
    const destinationCustomer = customers[Math.floor(destinationIndex / spec.accountsPerCustomer)];
    post(_id, _id, source._id, destination._id, amountMinor, at);
    const settledAt = new Date(at.getTime() + 2000);
    payments.push({
      _id, status: 'SETTLED', version: 4,
      lastChange: { number: 3, status: 'SETTLED', previousStatus: 'PROCESSING', at: settledAt },
      eventPending: false, createdBy: 'bench-seed', idempotencyKey: `seed-${i + 1}`,
      sourceAccountId: source._id, sourceCustomerId: sourceCustomer._id, destinationAccountId: destination._id, destinationCustomerId: destinationCustomer._id,
      accountIds: [source._id, destination._id], customerIds: [sourceCustomer._id, destinationCustomer._id],
      beneficiary: null, amountMinor, currency: 'USD', usdEquivalentMinor: amountMinor, fx: null, reference: `seed payment ${i + 1}`,
      parties: {
        customerName: sourceCustomer.name, customerCountry: sourceCustomer.country, accountCreatedAt: created.toISOString(),
        counterpartyCustomerId: destinationCustomer._id, counterpartyName: destinationCustomer.name, counterpartyCountry: destinationCustomer.country,
        crossBorder: sourceCustomer.country !== destinationCustomer.country,
      },
      requiredApprovals: 0, approvals: [],
      steps: { risk: { decision: 'APPROVE', at }, compliance: { status: 'CLEAR', at }, transfer: { at: settledAt } },
      waitingFor: null, failureReason: null, refundedMinor: 0n, refunds: [], leaseOwner: null, leaseUntil: null, createdAt: at, updatedAt: settledAt,
    });
    const level = levels[i % levels.length];
    assessments.push({
      _id: assessmentIdFor(_id), paymentId: _id, customerId: sourceCustomer._id, sourceAccountId: source._id, amountMinor, currency: 'USD',
      usdEquivalentMinor: amountMinor, crossBorder: sourceCustomer.country !== destinationCustomer.country, counterpartyCountry: destinationCustomer.country,
      score: level === 'LOW' ? 10 : 40, level, decision: 'APPROVE', reasons: level === 'LOW' ? [] : ['bench: medium amount'], assessedAt: at,
      pendingReview: false, review: null,
    });
    screened.push({ _id, customerId: sourceCustomer._id, counterpartyCustomerId: destinationCustomer._id, usdEquivalentMinor: amountMinor, at, screened: true });
    checks.push({ _id: checkIdFor(_id), paymentId: _id, customerId: sourceCustomer._id, status: 'CLEAR', matches: [], checkedAt: at, resolution: null });
  }
  const profiles: KycProfileRecord[] = ids.customerIds.map((_id) => ({ _id, tier: 'ENHANCED', status: 'VERIFIED', requestedTier: null, details: null, updatedAt: created }));
  return { customers, accounts, entries, systemAccount, payments, assessments, profiles, screened, checks };
}

/**
 * Seeds the four databases under `prefix` unless its marker says they are seeded already.
 * Returns the ids and whether it wrote anything.
 */
export async function seedVolume(mongoUri: string, prefix: string, spec: VolumeSpec = DEFAULT_VOLUME, log: (line: string) => void = console.log): Promise<SeededVolume & { seeded: boolean }> {
  const epoch = seedEpoch();
  const client = new MongoClient(mongoUri, { maxPoolSize: 8 });
  await client.connect();
  try {
    const db = (name: string) => client.db(`${prefix}${name}`);
    const marker = db('accounts').collection<{ _id: string; spec: VolumeSpec; at: Date }>('bench_seed');
    const existing = await marker.findOne({ _id: MARKER_ID });
    if (existing && JSON.stringify(existing.spec) === JSON.stringify(spec)) return { ...seededIds(spec, epoch), seeded: false };
    if (existing) throw new Error(`databases under ${prefix} hold another volume (${JSON.stringify(existing.spec)}); use another BENCH_DATA_DIR`);
    const started = Date.now();
    const p = plan(spec, epoch);
    // The four databases are separate SQLite files: writing them side by side overlaps the work.
    const counts = await Promise.all([
      (async () => {
        const accounts = db('accounts');
        return (await insertInBatches(accounts, 'customers', p.customers)) + (await insertInBatches(accounts, 'accounts', p.accounts))
          + (await insertInBatches(accounts, 'system_accounts', [p.systemAccount])) + (await insertInBatches(accounts, 'ledger_entries', p.entries));
      })(),
      insertInBatches(db('payments'), 'payments', p.payments),
      insertInBatches(db('risk'), 'risk_assessments', p.assessments),
      (async () => {
        const compliance = db('compliance');
        return (await insertInBatches(compliance, 'kyc_profiles', p.profiles)) + (await insertInBatches(compliance, 'screened_payments', p.screened))
          + (await insertInBatches(compliance, 'compliance_checks', p.checks));
      })(),
    ]);
    await marker.insertOne({ _id: MARKER_ID, spec, at: new Date() });
    log(`seeded ${counts.reduce((a, b) => a + b, 0)} documents (${p.customers.length} customers, ${p.accounts.length} accounts, ${p.payments.length} payments, ${p.entries.length} ledger entries) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { ...seededIds(spec, epoch), seeded: true };
  } finally {
    await client.close();
  }
}
