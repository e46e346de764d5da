import { createHash, randomBytes } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import { findByIds, insertIfAbsent, isDuplicateKeyError } from '../../runtime/mongo';
import { SequencedLog } from '../../runtime/sequenced-log';
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

export interface ScreenedPaymentRecord extends Omit<ScreenedPayment, 'paymentId'> {
  _id: string; // the payment id
  /** Set once screenPayment ran: the payment was stored by payments. */
  screened: boolean;
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

export function auditIdFor(key: string): string {
  return `aud_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
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

  constructor(db: Db) {
    this.profiles = db.collection('kyc_profiles');
    this.payments = db.collection('screened_payments');
    this.checks = db.collection('compliance_checks');
    this.cases = db.collection('aml_cases');
    this.audit = db.collection('audit_log');
    this.state = db.collection('audit_state');
    const audit = this.audit;
    this.auditLog = new SequencedLog<AuditRecord, AuditDraft>({
      readTail: () => audit.find({}).sort({ sequence: -1 }).limit(1).next(),
      readAfter: (sequence) => audit.find({ sequence: { $gt: sequence } }).toArray(),
      readByIds: (ids) => audit.find({ _id: { $in: ids } }).toArray(),
      seal: ({ _id, key, kind, data, at }, last) => {
        const fields = { sequence: (last?.sequence ?? 0) + 1, prevHash: last?.hash ?? GENESIS_HASH, kind, data, at };
        return { _id, key, ...fields, hash: hashRecord(fields) };
      },
      insertOrdered: async (records) => void (await audit.insertMany(records, { ordered: true })),
    });
  }

  async ensureIndexes(): Promise<void> {
    // Daily totals and AML windows: a customer's payments by time, sent and received.
    await this.payments.createIndex({ customerId: 1, at: 1 }, { name: 'customer_at' });
    await this.payments.createIndex({ counterpartyCustomerId: 1, at: 1 }, { name: 'counterparty_at' });
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

  async saveProfile(profile: KycProfileRecord): Promise<void> {
    const { _id, ...fields } = profile;
    await this.profiles.updateOne({ _id }, { $set: fields }, { upsert: true });
  }

  // --- screened payments ---------------------------------------------------------------

  /** Records a payment once; `screened` only ever goes from false to true. */
  async recordPayment(payment: ScreenedPayment, screened: boolean): Promise<void> {
    const { paymentId, ...fields } = payment;
    try {
      await this.payments.insertOne({ _id: paymentId, ...fields, screened });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      if (screened) await this.payments.updateOne({ _id: paymentId }, { $set: { screened: true } });
    }
  }

  async totalSentSince(customerId: string, since: Date, excludePaymentId: string): Promise<bigint> {
    const rows = await this.payments.find({ customerId, at: { $gte: since }, _id: { $ne: excludePaymentId } }, { projection: { usdEquivalentMinor: 1 } }).toArray();
    return rows.reduce((sum, row) => sum + BigInt(row.usdEquivalentMinor), 0n);
  }

  async screenedSentSince(customerId: string, since: Date): Promise<ScreenedPayment[]> {
    return toScreened(await this.payments.find({ customerId, screened: true, at: { $gte: since } }).toArray());
  }

  async screenedReceivedSince(customerId: string, since: Date): Promise<ScreenedPayment[]> {
    return toScreened(await this.payments.find({ counterpartyCustomerId: customerId, screened: true, at: { $gte: since } }).toArray());
  }

  // --- checks --------------------------------------------------------------------------

  async checksFor(paymentIds: readonly string[]): Promise<ComplianceCheckRecord[]> {
    return findByIds(this.checks, paymentIds.map(checkIdFor));
  }

  async checkFor(paymentId: string): Promise<ComplianceCheckRecord | null> {
    return this.checks.findOne({ _id: checkIdFor(paymentId) });
  }

  async insertCheck(check: ComplianceCheckRecord): Promise<ComplianceCheckRecord> {
    try {
      await this.checks.insertOne(check);
      return check;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const existing = await this.checkFor(check.paymentId);
      if (!existing) throw error;
      return existing;
    }
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
    const ids = [...finding.paymentIds].sort();
    const dedupeKey = `${finding.kind}:${createHash('sha256').update(ids.join(',')).digest('hex')}`;
    const record: AmlCaseRecord = { _id: newId('aml'), ...finding, openedAt, dedupeKey };
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

function toScreened(rows: ScreenedPaymentRecord[]): ScreenedPayment[] {
  return rows.map(({ _id, customerId, counterpartyCustomerId, usdEquivalentMinor, at }) => ({ paymentId: _id, customerId, counterpartyCustomerId, usdEquivalentMinor: BigInt(usdEquivalentMinor), at }));
}
