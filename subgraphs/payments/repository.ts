import { createHash } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import { SCRAPE_COMMENT } from '../../runtime/metrics';
import { findByIds } from '../../runtime/mongo';
import { conditionalUpdates, guardedInserts, pointReads, type ConditionalUpdate } from '../../runtime/batched-commands';
import { collectionLog, SequencedLog } from '../../runtime/sequenced-log';
import type { TickBatcher } from '../../runtime/tick-batcher';
import type { FxQuote } from './fx';
import type { ApprovalRecord, BeneficiaryRecord } from './rules';
import type { SignaturePolicy } from './signing-policy';
import type { ComplianceStatus, RiskDecision } from './collaborators';
import type { AuthorizationRecord } from './holds';
import { IN_FLIGHT_STATUSES, type PaymentStatus } from './state-machine';

/** The only module touching the payments subgraph's collections; indexes are declared here. */

export interface StatusChange {
  /** 1 for the payment's first status (PENDING), +1 per change. */
  number: number;
  status: PaymentStatus;
  previousStatus: PaymentStatus | null;
  at: Date;
}

export interface RefundRecord {
  number: number;
  /** The idempotency record that asked for it. */
  requestId: string;
  amountMinor: bigint;
  transferId: string;
  state: 'pending' | 'posted' | 'failed';
  requestedBy: string;
  createdAt: Date;
}

export interface PaymentDoc {
  _id: string;
  status: PaymentStatus;
  /** Bumped by every update: the compare-and-set guard. */
  version: number;
  lastChange: StatusChange;
  /** True while the events of some status changes (`eventsDue`) may not be in the log yet. */
  eventPending: boolean;
  /**
   * The status changes whose events may not be in the log yet, oldest first: a unit of work
   * appends them once, at its end (absent on documents written before: `lastChange` then).
   */
  eventsDue?: StatusChange[];
  createdBy: string;
  idempotencyKey: string;
  sourceAccountId: string;
  sourceCustomerId: string;
  destinationAccountId: string | null;
  destinationCustomerId: string | null;
  accountIds: string[];
  customerIds: string[];
  beneficiary: BeneficiaryRecord | null;
  amountMinor: bigint;
  currency: string;
  usdEquivalentMinor: bigint;
  fx: FxQuote | null;
  reference: string | null;
  /** Facts sent to risk and compliance, captured at creation so a resume sends the same. */
  parties: {
    customerName: string;
    customerCountry: string;
    accountCreatedAt: string;
    counterpartyCustomerId: string | null;
    counterpartyName: string | null;
    counterpartyCountry: string | null;
    crossBorder: boolean;
  };
  requiredApprovals: number;
  approvals: ApprovalRecord[];
  /** Set when the payment's amount band needs signed approvals (signing-policy.ts); absent on older documents. */
  signaturePolicy?: SignaturePolicy | null;
  /** Set on payments made by authorizePayment: the hold's expiry and its close (holds.ts). */
  authorization?: AuthorizationRecord | null;
  /** Step results obtained so far: a resumed saga skips these and repeats nothing. */
  steps: {
    risk?: { decision: RiskDecision; at: Date };
    compliance?: { status: ComplianceStatus; at: Date };
    transfer?: { at: Date };
    /** A cross-currency transfer's second leg was refused for good: its first leg is reversed, then the payment FAILED (fx-transfer.ts). */
    fxReversal?: { at: Date; failureReason: string };
  };
  /** What a REQUIRES_REVIEW payment waits for. */
  waitingFor: 'risk' | 'compliance' | null;
  failureReason: string | null;
  refundedMinor: bigint;
  refunds: RefundRecord[];
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface PaymentEventDoc {
  /** `<paymentId>:<number>`: one event per status change, however often a step is retried. */
  _id: string;
  sequence: number;
  paymentId: string;
  number: number;
  status: PaymentStatus;
  previousStatus: PaymentStatus | null;
  occurredAt: Date;
  accountIds: string[];
  customerIds: string[];
}

/** An event before it takes its place in the log. */
type EventDraft = Omit<PaymentEventDoc, 'sequence'>;

export interface IdempotencyDoc {
  _id: string;
  subject: string;
  scope: 'createPayment' | 'refundPayment' | 'authorizePayment';
  key: string;
  fingerprint: string;
  paymentId: string;
  createdAt: Date;
}

/** A key's record id is derived from (caller, operation, key): finding it is a point read by `_id`. */
export function idempotencyKeyId(subject: string, scope: IdempotencyDoc['scope'], key: string): string {
  return `idk_${createHash('sha256').update(`${subject}\u0000${scope}\u0000${key}`).digest('hex').slice(0, 32)}`;
}

export interface EventFilter {
  paymentId?: string;
  accountId?: string;
  customerId?: string;
}

/** How long idempotency keys are kept (at least 24h is promised). */
export const IDEMPOTENCY_TTL_SECONDS = 48 * 3600;

/** The plain fields naming a payment's parties, one per side (`accountIds`, `customerIds` hold both). */
const PARTY_FIELDS = {
  account: ['sourceAccountId', 'destinationAccountId'],
  customer: ['sourceCustomerId', 'destinationCustomerId'],
} as const;

/** The newest `limit` payments of several newest-first pages, each once. */
function newestFirst(pages: PaymentDoc[][], limit: number): PaymentDoc[] {
  if (pages.length === 1) return pages[0];
  const byId = new Map<string, PaymentDoc>();
  for (const page of pages) for (const doc of page) byId.set(doc._id, doc);
  return [...byId.values()].sort(newestIdFirst).slice(0, limit);
}

/** dropIndex of an index that is not there (a new database, or dropped before). */
function ignoreMissingIndex(error: unknown): void {
  const { codeName } = error as { codeName?: unknown };
  if (codeName !== 'IndexNotFound' && codeName !== 'NamespaceNotFound') throw error;
}

/** Payment ids sort by creation time. */
function newestIdFirst(a: PaymentDoc, b: PaymentDoc): number {
  return a._id < b._id ? 1 : a._id > b._id ? -1 : 0;
}

export class PaymentsRepository {
  readonly payments: Collection<PaymentDoc>;
  readonly events: Collection<PaymentEventDoc>;
  readonly keys: Collection<IdempotencyDoc>;
  // Concurrent payments share these commands (group commit, runtime/batched-commands.ts).
  private readonly keyReads: TickBatcher<string, IdempotencyDoc | null>;
  private readonly keyInserts: TickBatcher<IdempotencyDoc, boolean>;
  private readonly paymentReads: TickBatcher<string, PaymentDoc | null>;
  private readonly paymentInserts: TickBatcher<PaymentDoc, boolean>;
  private readonly paymentUpdates: TickBatcher<ConditionalUpdate<PaymentDoc>, boolean>;
  /** Appends to the event log: one global, gap-free sequence orders every payment's events. */
  private readonly eventLog: SequencedLog<PaymentEventDoc, EventDraft>;

  constructor(db: Db) {
    this.payments = db.collection<PaymentDoc>('payments');
    this.events = db.collection<PaymentEventDoc>('payment_events');
    this.keys = db.collection<IdempotencyDoc>('idempotency_keys');
    this.keyReads = pointReads(this.keys);
    this.keyInserts = guardedInserts(this.keys);
    this.paymentReads = pointReads(this.payments);
    this.paymentInserts = guardedInserts(this.payments);
    this.paymentUpdates = conditionalUpdates(this.payments);
    this.eventLog = new SequencedLog(collectionLog<PaymentEventDoc, EventDraft>(this.events, (draft, last) => ({ ...draft, sequence: (last?.sequence ?? 0) + 1 })));
  }

  async ensureIndexes(): Promise<void> {
    // listPayments / Account.payments: by account or customer, newest first (ids sort by time),
    // one index per side of the payment (see PARTY_FIELDS).
    for (const field of [...PARTY_FIELDS.account, ...PARTY_FIELDS.customer]) await this.payments.createIndex({ [field]: 1, _id: -1 });
    // What these replaced: multikey indexes no query uses any more, paid for on every write.
    for (const replaced of ['accountIds_1__id_-1', 'customerIds_1__id_-1']) await this.payments.dropIndex(replaced).catch(ignoreMissingIndex);
    // Resume after a crash: payments the saga still drives.
    await this.payments.createIndex({ status: 1 });
    await this.payments.createIndex({ eventPending: 1 });
    // The event log: a global gap-free sequence; one event per (payment, change number) via _id.
    await this.events.createIndex({ sequence: 1 }, { unique: true });
    await this.events.createIndex({ paymentId: 1, number: 1 });
    // Idempotency keys, scoped to the caller; kept 48h.
    await this.keys.createIndex({ subject: 1, scope: 1, key: 1 }, { unique: true });
    try {
      await this.keys.createIndex({ createdAt: 1 }, { expireAfterSeconds: IDEMPOTENCY_TTL_SECONDS });
    } catch {
      // FerretDB 1.x has no TTL indexes: purgeExpiredKeys() runs with the resume timer instead.
      await this.keys.createIndex({ createdAt: 1 });
    }
  }

  /** Deletes idempotency keys older than the TTL (for stores without TTL indexes). */
  async purgeExpiredKeys(now = new Date()): Promise<void> {
    await this.keys.deleteMany({ createdAt: { $lt: new Date(now.getTime() - IDEMPOTENCY_TTL_SECONDS * 1000) } });
  }

  // ---- idempotency keys ----

  /** Inserts the key, or returns the record already there (the unique index decides races). */
  async claimKey(doc: IdempotencyDoc): Promise<{ claimed: true; paymentId: string } | { claimed: false; existing: IdempotencyDoc }> {
    if (await this.keyInserts.submit(doc)) return { claimed: true, paymentId: doc.paymentId };
    const existing = await this.keyReads.submit(doc._id);
    if (!existing) throw new Error(`idempotency key ${doc._id} was taken, then not found`);
    return { claimed: false, existing };
  }

  /** Gives a key claimed by a request that was then refused back (only the claim of that payment id). */
  async releaseKey(id: string, paymentId: string): Promise<void> {
    await this.keys.deleteOne({ _id: id, paymentId });
  }

  async findKey(subject: string, scope: IdempotencyDoc['scope'], key: string): Promise<IdempotencyDoc | null> {
    return this.keyReads.submit(idempotencyKeyId(subject, scope, key));
  }

  // ---- payments ----

  /** False when a payment with this id exists already. */
  async insertPayment(doc: PaymentDoc): Promise<boolean> {
    return this.paymentInserts.submit(doc);
  }

  async findPayment(id: string): Promise<PaymentDoc | null> {
    return this.paymentReads.submit(id);
  }

  async findPayments(ids: readonly string[]): Promise<PaymentDoc[]> {
    return findByIds(this.payments, ids);
  }

  /**
   * Compare-and-set: applies `set` only if the payment still has `expected` status and version.
   * False means someone else moved it first: re-read.
   */
  async compareAndSet(current: Pick<PaymentDoc, '_id' | 'status' | 'version'>, set: Partial<PaymentDoc>): Promise<boolean> {
    return this.paymentUpdates.submit({
      filter: { _id: current._id, status: current.status, version: current.version },
      update: { $set: { ...set, updatedAt: set.updatedAt ?? new Date() }, $inc: { version: 1 } },
    });
  }

  /**
   * A page of payments, newest first. By account or customer it is one query per side of the
   * payment (source, destination), merged: each side is a plain field with its own index,
   * where `accountIds`/`customerIds` are arrays, which the embedded store cannot look up by
   * index (it read all 50,000 payments of the benchmark's volume for one account's page: 3.4 s).
   */
  async listPayments(filter: { accountId?: string; customerId?: string; statuses?: string[]; beforeId?: string; ids?: string[] }, limit: number): Promise<PaymentDoc[]> {
    if (filter.ids !== undefined) return this.listPaymentsByIds(filter.ids, filter, limit);
    const common: Filter<PaymentDoc> = {};
    if (filter.statuses?.length) common.status = { $in: filter.statuses as PaymentStatus[] };
    if (filter.beforeId !== undefined) common._id = { $lt: filter.beforeId };
    const page = (query: Filter<PaymentDoc>) => this.payments.find(query, { batchSize: limit }).sort({ _id: -1 }).limit(limit).toArray();
    // The account is the narrower party; a customer's own scope then only filters its payments.
    const sides = filter.accountId !== undefined
      ? PARTY_FIELDS.account.map((field) => ({ ...common, [field]: filter.accountId, ...(filter.customerId !== undefined ? { customerIds: filter.customerId } : {}) }))
      : filter.customerId !== undefined
        ? PARTY_FIELDS.customer.map((field) => ({ ...common, [field]: filter.customerId }))
        : [common];
    return newestFirst(await Promise.all(sides.map(page)), limit);
  }

  /**
   * The same page as listPayments, over named payments only: point reads by `_id`, with the
   * other conditions applied here (a filtered query would scan the collection on FerretDB).
   */
  private async listPaymentsByIds(ids: string[], filter: { accountId?: string; customerId?: string; statuses?: string[]; beforeId?: string }, limit: number): Promise<PaymentDoc[]> {
    const docs = await findByIds(this.payments, ids);
    return docs
      .filter((doc) => (filter.accountId === undefined || doc.accountIds.includes(filter.accountId))
        && (filter.customerId === undefined || doc.customerIds.includes(filter.customerId))
        && (!filter.statuses?.length || filter.statuses.includes(doc.status))
        && (filter.beforeId === undefined || doc._id < filter.beforeId))
      .sort(newestIdFirst)
      .slice(0, limit);
  }

  /** Payments a (re)started process must drive on or finish. */
  async findUnfinished(): Promise<PaymentDoc[]> {
    // One query, not one per reason: on FerretDB each is a scan of the whole collection (~25 s at 50,000 payments).
    return this.payments
      .find({
        $or: [
          { status: { $in: ['PENDING', 'PROCESSING', 'REQUIRES_REVIEW'] as PaymentStatus[] } },
          { eventPending: true },
          { 'refunds.state': 'pending' },
        ],
      } as Filter<PaymentDoc>)
      .sort({ _id: 1 })
      .limit(1000)
      .toArray();
  }

  // ---- the event log ----

  /**
   * Appends the events of status changes, in order, each once (an event already in the log
   * comes back as it is). The global sequence is max+1 guarded by a unique index and written by
   * ordered inserts shared with every other append of the moment (group commit, SequencedLog):
   * n+1 is written only once n is, so events become visible in sequence order and a reader
   * never skips one.
   */
  async appendEvents(paymentId: string, changes: StatusChange[], parties: { accountIds: string[]; customerIds: string[] }): Promise<PaymentEventDoc[]> {
    return this.eventLog.append(
      changes.map((change) => ({
        _id: `${paymentId}:${change.number}`,
        paymentId,
        number: change.number,
        status: change.status,
        previousStatus: change.previousStatus,
        occurredAt: change.at,
        accountIds: parties.accountIds,
        customerIds: parties.customerIds,
      })),
    );
  }

  async eventsOfPayments(paymentIds: readonly string[]): Promise<PaymentEventDoc[]> {
    return this.events.find({ paymentId: { $in: [...paymentIds] } }).sort({ sequence: 1 }).toArray();
  }

  /**
   * Up to `limit` events after `sequence`, in order. One payment's are found by its index.
   * Otherwise the log is read in windows of the sequence, where a query for everything after
   * the cursor made the embedded store read all of it for every page (it pushes the range down,
   * but neither the sort nor the limit). The sequence has no gaps, so the first window,
   * (sequence, sequence + limit], holds the next `limit` events of everyone's log. An account's
   * or customer's are fewer: the window doubles while too few are found and the log goes on.
   */
  async eventsAfter(sequence: number, filter: EventFilter, limit: number): Promise<PaymentEventDoc[]> {
    const query: Filter<PaymentEventDoc> = {};
    if (filter.paymentId !== undefined) query.paymentId = filter.paymentId;
    if (filter.accountId !== undefined) query.accountIds = filter.accountId;
    if (filter.customerId !== undefined) query.customerIds = filter.customerId;
    const page = (range: Filter<PaymentEventDoc>['sequence'], wanted: number) =>
      this.events.find({ ...query, sequence: range }, { batchSize: wanted }).sort({ sequence: 1 }).limit(wanted).toArray();
    if (filter.paymentId !== undefined) return page({ $gt: sequence }, limit);
    const found: PaymentEventDoc[] = [];
    for (let after = sequence, width = limit; ; after += width, width *= 2) {
      found.push(...(await page({ $gt: after, $lte: after + width }, limit - found.length)));
      if (found.length >= limit || !(await this.hasEventAfter(after + width))) return found;
    }
  }

  /**
   * Whether the log goes on past this sequence. Unsorted, the store stops at the first event it
   * finds; and a gap in the log (were an event ever removed) only costs another window.
   */
  private async hasEventAfter(sequence: number): Promise<boolean> {
    return (await this.events.findOne({ sequence: { $gt: sequence } }, { projection: { _id: 1 } })) !== null;
  }

  /** How many payments are in each in-flight status (the `paygraph_payments` gauge), by the status index. */
  async countInFlight(): Promise<{ status: PaymentStatus; count: number }[]> {
    return Promise.all(IN_FLIGHT_STATUSES.map(async (status) => ({ status, count: await this.payments.countDocuments({ status }, { comment: SCRAPE_COMMENT }) })));
  }

  async lastSequence(): Promise<number> {
    return (await this.lastEvent())?.sequence ?? 0;
  }

  private lastEvent(): Promise<{ sequence: number } | null> {
    return this.events.find({}, { projection: { sequence: 1 } }).sort({ sequence: -1 }).limit(1).next();
  }
}
