import { randomBytes } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import { guardedInserts } from '../../runtime/batched-commands';
import { findByIds, insertIfAbsent } from '../../runtime/mongo';
import type { TickBatcher } from '../../runtime/tick-batcher';
import type { RiskAlertRecord } from './alerts';
import type { RiskDecision, RiskLevel } from './rules';

export interface RiskReviewRecord {
  reviewer: string;
  decision: RiskDecision;
  note: string | null;
  reviewedAt: Date;
}

export interface AssessmentRecord {
  _id: string;
  paymentId: string;
  customerId: string;
  sourceAccountId: string;
  amountMinor: bigint;
  currency: string;
  usdEquivalentMinor: bigint;
  crossBorder: boolean;
  counterpartyCountry: string | null;
  score: number;
  level: RiskLevel;
  /** The rules' decision; a review's decision is in `review`. */
  decision: RiskDecision;
  reasons: string[];
  assessedAt: Date;
  /** True while the decision is REVIEW and nobody has reviewed it: the review queue. */
  pendingReview: boolean;
  review: RiskReviewRecord | null;
}

export type AlertRecord = Omit<RiskAlertRecord, 'id'> & { _id: string };

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/** One assessment per payment, found by a point read of its `_id` rather than a scan. */
export const assessmentIdFor = (paymentId: string) => `rsk_${paymentId}`;

/** The only code touching risk's collections; each index sits beside the queries it serves. */
export class RiskRepository {
  private readonly assessments: Collection<AssessmentRecord>;
  private readonly alerts: Collection<AlertRecord>;
  /** Assessments of the moment go in as one unordered insert (group commit). */
  private readonly assessmentInserts: TickBatcher<AssessmentRecord, boolean>;

  constructor(db: Db) {
    this.assessments = db.collection<AssessmentRecord>('risk_assessments');
    this.alerts = db.collection<AlertRecord>('risk_alerts');
    this.assessmentInserts = guardedInserts(this.assessments);
  }

  async ensureIndexes(): Promise<void> {
    // One assessment per payment: the unique index is what makes assessPayment idempotent.
    await this.assessments.createIndex({ paymentId: 1 }, { unique: true, name: 'paymentId_unique' });
    // Velocity: an account's assessed payments in a time window.
    await this.assessments.createIndex({ sourceAccountId: 1, assessedAt: 1 }, { name: 'source_assessedAt' });
    // The review queue, oldest first.
    await this.assessments.createIndex({ pendingReview: 1, assessedAt: 1, _id: 1 }, { name: 'review_queue' });
    await this.alerts.createIndex({ paymentId: 1 }, { unique: true, name: 'alert_paymentId_unique' });
  }

  async findByPaymentIds(paymentIds: readonly string[]): Promise<AssessmentRecord[]> {
    return findByIds(this.assessments, paymentIds.map(assessmentIdFor));
  }

  async findByPaymentId(paymentId: string): Promise<AssessmentRecord | null> {
    return this.assessments.findOne({ _id: assessmentIdFor(paymentId) });
  }

  /**
   * The account's assessments since `since`, the velocity window, whole: a payment assessed
   * within it finds its own assessment here too, so asking again needs no read of its own.
   */
  async recentForAccount(sourceAccountId: string, since: Date): Promise<AssessmentRecord[]> {
    return this.assessments.find({ sourceAccountId, assessedAt: { $gte: since } }).toArray();
  }

  /** Inserts the assessment, or returns the one already stored for its payment (read only then). */
  async insertAssessment(record: AssessmentRecord): Promise<{ record: AssessmentRecord; created: boolean }> {
    if (await this.assessmentInserts.submit(record)) return { record, created: true };
    const existing = await this.findByPaymentId(record.paymentId);
    if (!existing) throw new Error(`the assessment of payment ${record.paymentId} was taken, then not found`);
    return { record: existing, created: false };
  }

  async reviewQueue(first: number, after: { assessedAt: Date; id: string } | null): Promise<AssessmentRecord[]> {
    const filter: Filter<AssessmentRecord> = { pendingReview: true };
    if (after) {
      filter.$or = [{ assessedAt: { $gt: after.assessedAt } }, { assessedAt: after.assessedAt, _id: { $gt: after.id } }];
    }
    return this.assessments.find(filter, { batchSize: first }).sort({ assessedAt: 1, _id: 1 }).limit(first).toArray();
  }

  /** Records a review on an assessment still waiting for one; false when it no longer waits. */
  async recordReview(paymentId: string, review: RiskReviewRecord): Promise<boolean> {
    const result = await this.assessments.updateOne({ paymentId, pendingReview: true }, { $set: { pendingReview: false, review } });
    return result.modifiedCount === 1;
  }

  /** Stores an alert once per payment; returns it, or null when it was stored already. */
  async insertAlert(alert: AlertRecord): Promise<AlertRecord | null> {
    return (await insertIfAbsent(this.alerts, alert)) ? alert : null;
  }
}
