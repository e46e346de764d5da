import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import { guardedInserts, MAX_UPDATE_STATEMENTS } from '../../runtime/batched-commands';
import { findByIds, insertIfAbsent, isDuplicateKeyError } from '../../runtime/mongo';
import { collectionLog, SequencedLog } from '../../runtime/sequenced-log';
import { TickBatcher } from '../../runtime/tick-batcher';
import type { AmlCaseKind, AmlFinding, ScreenedPayment } from './aml';
import { GENESIS_HASH, hashRecord, toAuditData, type ChainRecord } from './audit-chain';
import type { KycTier } from './config';
import type { ScreeningStatus } from './matcher';

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

export type KycStatus = 'UNVERIFIED' | 'PENDING' | 'VERIFIED' | 'REJECTED';

export interface KycProfileRecord {
  _id: string; // the customer id
  tier: KycTier;
  status: KycStatus;
  requestedTier: KycTier | null;
  details: Record<string, string> | null;
  updatedAt: Date;
}

/**
 * A customer's payment history: one row per payment and customer taking part. The paying
 * customer's row has the payment id as `_id`; a transfer to another of our customers also
 * has the receiving customer's row (`_id` `rcv_<payment id>`, `received`). `customerId` is
 * whose history the row is in and `counterpartyCustomerId` the other side, so one range read
 * of a customer's rows holds what it sent and what it received.
 */
export interface ScreenedPaymentRecord {
  _id: string;
  customerId: string;
  counterpartyCustomerId: string | null;
  usdEquivalentMinor: bigint;
  /** When the payment was prescreened (screened, for a payment never prescreened). */
  at: Date;
  /** Set once screenPayment ran: the payment was stored by payments. */
  screened: boolean;
  /** On the receiving customer's row: the payment it received. */
  received?: { paymentId: string };
}

/** What one range read of a customer's screened history holds. */
export interface ScreenedHistory {
  sent: ScreenedPayment[];
  received: ScreenedPayment[];
}

export interface SanctionsMatchRecord {
  listEntryId: string;
  name: string;
  score: number;
  party: 'CUSTOMER' | 'BENEFICIARY';
}

export interface ComplianceCheckRecord {
  _id: string;
  paymentId: string;
  customerId: string;
  status: ScreeningStatus;
  matches: SanctionsMatchRecord[];
  checkedAt: Date;
  resolution: { officer: string; status: ScreeningStatus; note: string | null; resolvedAt: Date } | null;
}

export interface AmlCaseRecord {
  _id: string;
  customerId: string;
  kind: AmlCaseKind;
  paymentIds: string[];
  description: string;
  openedAt: Date;
  /** kind + the payments: one case per set of payments, even under concurrent screening. */
  dedupeKey: string;
}

export interface AuditRecord extends ChainRecord {
  /** What the record is about, unique: re-appending the same fact is a no-op. */
  key: string;
}

/** An audit record before it takes its place in the chain. */
type AuditDraft = Pick<AuditRecord, '_id' | 'key' | 'kind' | 'data' | 'at'>;

/** The only code touching compliance's collections; indexes are declared in ensureIndexes. */
/**
 * Records looked up by a natural key carry an id derived from it, so the lookup is a point
 * read by `_id` (the one filter FerretDB's SQLite backend pushes down instead of scanning).
 */
export function checkIdFor(paymentId: string): string {
  return `chk_${paymentId}`;
}

/** A case's dedupeKey: its kind and its set of payments. */
export function amlCaseKey(finding: Pick<AmlFinding, 'kind' | 'paymentIds'>): string {
  const ids = [...finding.paymentIds].sort();
  return `${finding.kind}:${createHash('sha256').update(ids.join(',')).digest('hex')}`;
}

export function auditIdFor(key: string): string {
  return `aud_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export interface ComplianceRepositoryOptions {
  /** How long prescreening trusts a KYC profile it read, in ms (recentProfileFor); 0 reads each time. Default 0. */
  profileCacheMs?: number;
}

export class ComplianceRepository {
  readonly profiles: Collection<KycProfileRecord>;
  private readonly payments: Collection<ScreenedPaymentRecord>;
  private readonly checks: Collection<ComplianceCheckRecord>;
  private readonly cases: Collection<AmlCaseRecord>;
  readonly audit: Collection<AuditRecord>;
  private readonly state: Collection<{ _id: string; cursor: string | null; updatedAt: Date }>;

  /** The audit chain's appender: one gap-free sequence, each record linked to the previous hash. */
  private readonly auditLog: SequencedLog<AuditRecord, AuditDraft>;

  // Concurrent screenings share these commands (group commit: one command per batch).
  private readonly checkInserts: TickBatcher<ComplianceCheckRecord, boolean>;
  private readonly historyInserts: TickBatcher<ScreenedPaymentRecord, boolean>;
  private readonly screenedMarks: TickBatcher<AnyBulkWriteOperation<ScreenedPaymentRecord>[], void>;

  /** Profiles read lately, absent ones too (as null): a tier changes rarely, a customer pays often. */
  private readonly recentProfiles: LRUCache<string, { profile: KycProfileRecord | null }> | null;

  constructor(db: Db, options: ComplianceRepositoryOptions = {}) {
    const profileCacheMs = options.profileCacheMs ?? 0;
    this.recentProfiles = profileCacheMs > 0 ? new LRUCache({ max: 10_000, ttl: profileCacheMs }) : null;
    this.profiles = db.collection('kyc_profiles');
    this.payments = db.collection('screened_payments');
    this.checks = db.collection('compliance_checks');
    this.cases = db.collection('aml_cases');
    this.audit = db.collection('audit_log');
    this.state = db.collection('audit_state');
    this.checkInserts = guardedInserts(this.checks);
    this.historyInserts = guardedInserts(this.payments);
    const payments = this.payments;
    this.screenedMarks = new TickBatcher(async (batches) => {
      const operations = batches.flat();
      try {
        await payments.bulkWrite(operations, { ordered: false });
      } catch (error) {
        // Two upserts of one new row raced: the row is there now, so the updates apply.
        if (!isDuplicateKeyError(error)) throw error;
        await payments.bulkWrite(operations, { ordered: false });
      }
      return batches.map(() => undefined);
      // Two statements a payment: within the embedded store's limit on statements per update command.
    }, { maxBatch: MAX_UPDATE_STATEMENTS / 2 });
    this.auditLog = new SequencedLog(
      collectionLog<AuditRecord, AuditDraft>(this.audit, ({ _id, key, kind, data, at }, last) => {
        const fields = { sequence: (last?.sequence ?? 0) + 1, prevHash: last?.hash ?? GENESIS_HASH, kind, data, at };
        return { _id, key, ...fields, hash: hashRecord(fields) };
      }),
    );
  }

  async ensureIndexes(): Promise<void> {
    // Daily totals and AML windows: a customer's history by time (sent and received rows).
    await this.payments.createIndex({ customerId: 1, at: 1 }, { name: 'customer_at' });
    // What the receiving customers' rows replaced: no query reads by counterparty any more.
    await this.payments.dropIndex('counterparty_at').catch((error: { codeName?: string }) => {
      if (error.codeName !== 'IndexNotFound' && error.codeName !== 'NamespaceNotFound') throw error;
    });
    // One check per payment: what makes screenPayment idempotent.
    await this.checks.createIndex({ paymentId: 1 }, { unique: true, name: 'paymentId_unique' });
    await this.cases.createIndex({ dedupeKey: 1 }, { unique: true, name: 'dedupeKey_unique' });
    await this.cases.createIndex({ customerId: 1, openedAt: -1, _id: -1 }, { name: 'customer_openedAt' });
    await this.cases.createIndex({ openedAt: -1, _id: -1 }, { name: 'openedAt' });
    // The chain: a gap-free sequence (unique, so two writers cannot both take the same one),
    // and a unique key per audited fact (a payment event's cursor, a screening's payment).
    await this.audit.createIndex({ sequence: 1 }, { unique: true, name: 'sequence_unique' });
    await this.audit.createIndex({ key: 1 }, { unique: true, name: 'key_unique' });
  }

  // --- KYC -----------------------------------------------------------------------------

  async profilesFor(customerIds: readonly string[]): Promise<KycProfileRecord[]> {
    return findByIds(this.profiles, customerIds);
  }

  async profileFor(customerId: string): Promise<KycProfileRecord | null> {
    return this.profiles.findOne({ _id: customerId });
  }

  /**
   * The profile as read at most `profileCacheMs` ago: for prescreening, which reads one per
   * payment. A change saved through this process is seen at once; one saved by another process
   * within the TTL.
   */
  async recentProfileFor(customerId: string): Promise<KycProfileRecord | null> {
    const cached = this.recentProfiles?.get(customerId);
    if (cached) return cached.profile;
    const profile = await this.profileFor(customerId);
    // A save during the read has put its own, newer profile in the cache: keep that one.
    if (this.recentProfiles && !this.recentProfiles.has(customerId)) this.recentProfiles.set(customerId, { profile });
    return profile;
  }

  async saveProfile(profile: KycProfileRecord): Promise<void> {
    const { _id, ...fields } = profile;
    this.recentProfiles?.delete(_id);
    await this.profiles.updateOne({ _id }, { $set: fields }, { upsert: true });
    this.recentProfiles?.set(_id, { profile });
  }

  // --- screened payments ---------------------------------------------------------------

  /**
   * Records a prescreened payment, unscreened, in its customers' histories (the daily limit
   * counts it from now on). A repeat for the same payment id changes nothing.
   */
  async recordPrescreened(payment: ScreenedPayment): Promise<void> {
    await Promise.all(historyRows(payment, false).map((row) => this.historyInserts.submit(row)));
  }

  /**
   * Marks a payment screened in its customers' histories, recording it first when it was not
   * prescreened: one update command for both rows (and the marks of the moment). `screened`
   * only ever goes from false to true.
   */
  async markScreened(payment: ScreenedPayment): Promise<void> {
    await this.screenedMarks.submit(
      historyRows(payment, true).map(({ _id, screened, ...fields }) => ({
        updateOne: { filter: { _id }, update: { $set: { screened }, $setOnInsert: fields }, upsert: true },
      })),
    );
  }

  /** What the customer sent since `since` (screened or not), this payment excluded: the daily total. */
  async totalSentSince(customerId: string, since: Date, excludePaymentId: string): Promise<bigint> {
    const rows = await this.payments.find({ customerId, at: { $gte: since } }, { projection: { usdEquivalentMinor: 1, received: 1 } }).toArray();
    return rows.reduce((sum, row) => (row.received || row._id === excludePaymentId ? sum : sum + BigInt(row.usdEquivalentMinor)), 0n);
  }

  /** The customer's screened payments since `since`, sent and received, in one read. */
  async screenedHistorySince(customerId: string, since: Date): Promise<ScreenedHistory> {
    const rows = await this.payments.find({ customerId, screened: true, at: { $gte: since } }).toArray();
    const history: ScreenedHistory = { sent: [], received: [] };
    for (const row of rows) {
      const usdEquivalentMinor = BigInt(row.usdEquivalentMinor);
      if (row.received) history.received.push({ paymentId: row.received.paymentId, customerId: row.counterpartyCustomerId!, counterpartyCustomerId: row.customerId, usdEquivalentMinor, at: row.at });
      else history.sent.push({ paymentId: row._id, customerId: row.customerId, counterpartyCustomerId: row.counterpartyCustomerId, usdEquivalentMinor, at: row.at });
    }
    return history;
  }

  // --- checks --------------------------------------------------------------------------

  async checksFor(paymentIds: readonly string[]): Promise<ComplianceCheckRecord[]> {
    return findByIds(this.checks, paymentIds.map(checkIdFor));
  }

  async checkFor(paymentId: string): Promise<ComplianceCheckRecord | null> {
    return this.checks.findOne({ _id: checkIdFor(paymentId) });
  }

  /** Inserts the check, or returns the one already stored for its payment (read only then). */
  async insertCheck(check: ComplianceCheckRecord): Promise<ComplianceCheckRecord> {
    if (await this.checkInserts.submit(check)) return check;
    const existing = await this.checkFor(check.paymentId);
    if (!existing) throw new Error(`the check of payment ${check.paymentId} was taken, then not found`);
    return existing;
  }

  /** Resolves a check still waiting as POTENTIAL_MATCH; false when it no longer waits. */
  async resolveCheck(paymentId: string, resolution: NonNullable<ComplianceCheckRecord['resolution']>): Promise<boolean> {
    const result = await this.checks.updateOne({ paymentId, status: 'POTENTIAL_MATCH', resolution: null }, { $set: { status: resolution.status, resolution } });
    return result.modifiedCount === 1;
  }

  // --- AML cases -----------------------------------------------------------------------

  async casesOf(customerId: string): Promise<AmlCaseRecord[]> {
    return this.cases.find({ customerId }).toArray();
  }

  /** Opens a case for a finding once; returns it, or null when it exists already. */
  async openCase(finding: AmlFinding, openedAt: Date): Promise<AmlCaseRecord | null> {
    const record: AmlCaseRecord = { _id: newId('aml'), ...finding, openedAt, dedupeKey: amlCaseKey(finding) };
    return (await insertIfAbsent(this.cases, record)) ? record : null;
  }

  async listCases(customerId: string | null, first: number, after: { at: Date; id: string } | null): Promise<AmlCaseRecord[]> {
    const filter: Filter<AmlCaseRecord> = customerId ? { customerId } : {};
    if (after) filter.$or = [{ openedAt: { $lt: after.at } }, { openedAt: after.at, _id: { $lt: after.id } }];
    return this.cases.find(filter, { batchSize: first }).sort({ openedAt: -1, _id: -1 }).limit(first).toArray();
  }

  // --- audit trail ---------------------------------------------------------------------

  /**
   * Appends a record at the end of the chain, once per `key`. The unique sequence index is
   * the lock across processes (see SequencedLog); the previous record's hash links the chain.
   */
  async appendAudit(key: string, kind: string, data: unknown, at = new Date()): Promise<AuditRecord> {
    return (await this.appendAudits([{ key, kind, data, at }]))[0];
  }

  /**
   * Appends records in order, each once per `key`, sharing one insert with every other append
   * of the moment (group commit, see SequencedLog).
   */
  async appendAudits(entries: { key: string; kind: string; data: unknown; at?: Date }[]): Promise<AuditRecord[]> {
    return this.auditLog.append(entries.map(({ key, kind, data, at }) => ({ _id: auditIdFor(key), key, kind, data: toAuditData(data), at: at ?? new Date() })));
  }

  /** The audit log in sequence order, in batches. */
  async *auditInOrder(batch = 500): AsyncGenerator<AuditRecord> {
    let after = 0;
    for (;;) {
      const rows = await this.audit.find({ sequence: { $gt: after } }).sort({ sequence: 1 }).limit(batch).toArray();
      for (const row of rows) yield row;
      if (rows.length < batch) return;
      after = rows[rows.length - 1].sequence;
    }
  }

  async auditCursor(name: string): Promise<string | null> {
    return (await this.state.findOne({ _id: name }))?.cursor ?? null;
  }

  async saveAuditCursor(name: string, cursor: string): Promise<void> {
    await this.state.updateOne({ _id: name }, { $set: { cursor, updatedAt: new Date() } }, { upsert: true });
  }
}

/** A payment's rows: the paying customer's, and the receiving customer's when that is another of ours. */
function historyRows(payment: ScreenedPayment, screened: boolean): ScreenedPaymentRecord[] {
  const { paymentId, customerId, counterpartyCustomerId, usdEquivalentMinor, at } = payment;
  const rows: ScreenedPaymentRecord[] = [{ _id: paymentId, customerId, counterpartyCustomerId, usdEquivalentMinor, at, screened }];
  if (counterpartyCustomerId !== null && counterpartyCustomerId !== customerId) {
    rows.push({ _id: `rcv_${paymentId}`, customerId: counterpartyCustomerId, counterpartyCustomerId: customerId, usdEquivalentMinor, at, screened, received: { paymentId } });
  }
  return rows;
}
