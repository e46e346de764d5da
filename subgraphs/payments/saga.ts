import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { ErrorCode, isPaygraphError, notFound, PaygraphError } from '../../runtime/errors';
import type { Collaborators, ScreeningInput } from './collaborators';
import type { CrashStep, PaymentsConfig } from './config';
import type { PaymentEventNotifier } from './event-notifier';
import { KeyedMutex } from '../../runtime/keyed-mutex';
import type { PaymentDoc, PaymentsRepository, RefundRecord } from './repository';
import { approvalsComplete } from './approval-release';
import { countStatusChange } from './metrics';
import { assertTransition, IN_FLIGHT_STATUSES, PaymentStatus } from './state-machine';
import { postFxLegs, reverseFirstLeg, SecondLegRefused } from './fx-transfer';
import { placeHoldFor, postedStatus, settledAmountMinor } from './holds';

const S = PaymentStatus;
/** Errors from the ledger that end a payment as FAILED (anything else is retried later). */
const FINAL_TRANSFER_ERRORS: string[] = [ErrorCode.INSUFFICIENT_FUNDS, ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.FORBIDDEN, ErrorCode.INVALID_STATE_TRANSITION];

/** What a FAILED payment says of a transfer the ledger refused for good. */
function transferFailureReason(error: unknown): string {
  if (isPaygraphError(error) && error.code === ErrorCode.INSUFFICIENT_FUNDS) return 'insufficient funds';
  return error instanceof Error ? error.message : String(error);
}

/**
 * The payment saga: a persisted state machine. Each step's result is stored on the payment
 * before the next step runs, and every call to another subgraph is idempotent by payment id,
 * so `drive` can be repeated at any time (after a crash, after a review) and completes the
 * payment exactly once. A lease on the payment keeps two processes from driving it together.
 */
export class PaymentSaga {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly mutex = new KeyedMutex();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The resume pass running now, if any: stop() waits for it so no lease is left held. */
  private resuming: Promise<unknown> | undefined;

  constructor(
    private readonly repository: PaymentsRepository,
    private readonly collaborators: Collaborators,
    private readonly notifier: PaymentEventNotifier,
    private readonly config: PaymentsConfig,
    private readonly log: Logger,
  ) {}

  // ---- status changes and updates (compare-and-set) ----

  /**
   * Applies `set` if nobody changed the payment since `p` was read; null when someone did.
   * The step results `p` carries are written with it (a unit of work keeps them in memory
   * until its next write: every step is idempotent, so a resumer that never saw them asks again).
   */
  async update(p: PaymentDoc, set: Partial<PaymentDoc>): Promise<PaymentDoc | null> {
    const now = new Date();
    const lease = p.leaseOwner === this.owner ? { leaseUntil: new Date(now.getTime() + this.config.leaseMs) } : {};
    const next = { steps: p.steps, ...set, ...lease, updatedAt: now };
    if (!(await this.repository.compareAndSet(p, next))) return null;
    return { ...p, ...next, version: p.version + 1 };
  }

  /**
   * Moves `p` to `to` (INVALID_STATE_TRANSITION if the table forbids it); its event is due,
   * appended when the unit of work finishes. Null when someone else moved the payment first.
   */
  async transition(p: PaymentDoc, to: PaymentStatus, set: Partial<PaymentDoc> = {}): Promise<PaymentDoc | null> {
    assertTransition(p.status, to);
    const change = { number: p.lastChange.number + 1, status: to, previousStatus: p.status, at: new Date() };
    const next = await this.update(p, { ...set, status: to, lastChange: change, eventPending: true, eventsDue: [...eventsDue(p), change] });
    if (!next) return null;
    countStatusChange(to);
    return next;
  }

  /**
   * Ends a unit of work: the events of its status changes appended (status first, then
   * event: a subscriber that reads the payment on an event sees that status or a later one),
   * then the flag and the lease cleared (best effort: the resumer appends what is left).
   */
  async finish(p: PaymentDoc): Promise<PaymentDoc> {
    const due = eventsDue(p);
    if (due.length > 0) {
      const events = await this.repository.appendEvents(p._id, due, { accountIds: p.accountIds, customerIds: p.customerIds });
      this.notifier.publish({ sequence: events[events.length - 1].sequence, paymentId: p._id });
    }
    const mine = p.leaseOwner === this.owner;
    if (!p.eventPending && !mine) return p;
    const set = { eventPending: false, eventsDue: [], ...(mine ? { leaseOwner: null, leaseUntil: null } : {}) };
    const cleared = await this.repository.compareAndSet(p, set);
    if (!cleared) return (await this.repository.findPayment(p._id)) ?? p;
    return { ...p, ...set, version: p.version + 1 };
  }

  // ---- driving ----

  /** Drives the payment as far as it can go now; returns it in the status reached. */
  drive(id: string): Promise<PaymentDoc> {
    return this.mutex.run(id, async () => {
      const p = await this.load(id);
      if (!this.isDrivable(p)) return this.finish(p);
      const leased = await this.acquireLease(p);
      if (!leased) return p;
      return this.advanceAndFinish(leased);
    });
  }

  /** Drives a payment this process has just inserted, holding its lease: nothing to read first. */
  driveNew(p: PaymentDoc): Promise<PaymentDoc> {
    if (p.leaseOwner !== this.owner) throw new Error('driveNew needs a payment inserted with this saga\'s lease (newLease())');
    return this.mutex.run(p._id, () => this.advanceAndFinish(p));
  }

  /** The lease a payment is inserted with, so that its creator drives it without taking one. */
  newLease(now: Date): Pick<PaymentDoc, 'leaseOwner' | 'leaseUntil'> {
    return { leaseOwner: this.owner, leaseUntil: new Date(now.getTime() + this.config.leaseMs) };
  }

  private async advanceAndFinish(p: PaymentDoc): Promise<PaymentDoc> {
    try {
      p = await this.advance(p);
    } catch (error) {
      // What was written stands; the resumer takes it from there.
      await this.finish((await this.repository.findPayment(p._id)) ?? p).catch(() => undefined);
      throw error;
    }
    return this.finish(p);
  }

  /** Runs `task` under the same per-payment lock as `drive` (refunds, approvals). */
  exclusive<T>(id: string, task: () => Promise<T>): Promise<T> {
    return this.mutex.run(id, task);
  }

  private isDrivable(p: PaymentDoc): boolean {
    return IN_FLIGHT_STATUSES.includes(p.status);
  }

  private async load(id: string): Promise<PaymentDoc> {
    const p = await this.repository.findPayment(id);
    if (!p) throw notFound('payment', id);
    return p;
  }

  private async acquireLease(p: PaymentDoc): Promise<PaymentDoc | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const now = new Date();
      if (p.leaseOwner && p.leaseOwner !== this.owner && p.leaseUntil && p.leaseUntil > now) return null;
      const set = { leaseOwner: this.owner, leaseUntil: new Date(now.getTime() + this.config.leaseMs), updatedAt: now };
      if (await this.repository.compareAndSet(p, set)) return { ...p, ...set, version: p.version + 1 };
      p = await this.load(p._id);
      if (!this.isDrivable(p)) return null;
    }
    return null;
  }

  private async advance(p: PaymentDoc): Promise<PaymentDoc> {
    for (;;) {
      const next = await this.step(p);
      if (next === 'wait') return p;
      // null: someone else changed the payment (a cancel, an approval): re-read and go on.
      p = next ?? (await this.load(p._id));
      if (p.leaseOwner !== this.owner) return p;
    }
  }

  /** One step of the saga: the updated payment, null if the update lost a race, 'wait' when nothing more to do now. */
  private async step(p: PaymentDoc): Promise<PaymentDoc | null | 'wait'> {
    switch (p.status) {
      case S.PENDING: {
        // Risk and compliance do not depend on each other: asked at once, kept in memory, and
        // written with the status they lead to.
        if (!p.steps.risk || !p.steps.compliance) return this.assessAndScreen(p);
        if (p.steps.risk.decision === 'DECLINE') return this.transition(p, S.DECLINED, { failureReason: 'declined by risk assessment' });
        if (p.steps.risk.decision === 'REVIEW') return this.transition(p, S.REQUIRES_REVIEW, { waitingFor: 'risk' });
        return this.afterScreening(p);
      }
      case S.REQUIRES_REVIEW: {
        if (p.waitingFor === 'risk') {
          // Asking again returns the stored assessment, with the reviewer's decision once reviewed.
          const decision = await this.collaborators.assessPayment(this.assessInput(p));
          if (decision === 'REVIEW') return 'wait';
          if (decision === 'DECLINE') return this.transition(p, S.DECLINED, { failureReason: 'declined by risk review', steps: { ...p.steps, risk: { decision, at: new Date() } } });
          return this.update(p, { waitingFor: null, steps: { ...p.steps, risk: { decision, at: new Date() } } });
        }
        if (p.waitingFor === 'compliance' || !p.steps.compliance) {
          const status = await this.collaborators.screenPayment(this.screeningInput(p));
          if (status === 'POTENTIAL_MATCH' && p.waitingFor === 'compliance') return 'wait';
          return this.update(p, { waitingFor: null, steps: { ...p.steps, compliance: { status, at: new Date() } } });
        }
        return this.afterScreening(p);
      }
      case S.REQUIRES_APPROVAL:
        // Re-checked here: only signatures over the current instruction count (approval-release.ts).
        return approvalsComplete(p) ? this.transition(p, S.PROCESSING) : 'wait';
      case S.PROCESSING: {
        if (p.steps.fxReversal && p.fx) {
          await reverseFirstLeg({ ...p, fx: p.fx }, this.collaborators);
          this.afterStep('fx-reversal', undefined);
          return this.transition(p, S.FAILED, { failureReason: p.steps.fxReversal.failureReason });
        }
        if (!p.steps.transfer) {
          try {
            // An authorization holds the amount instead of moving it (holds.ts).
            await (p.authorization ? placeHoldFor(p, this.collaborators) : this.postTransfers(p));
          } catch (error) {
            // Recorded before the first leg is paid back: a resumed payment never posts the second.
            if (error instanceof SecondLegRefused) return this.update(p, { steps: { ...p.steps, fxReversal: { at: new Date(), failureReason: transferFailureReason(error.cause) } } });
            if (!isPaygraphError(error) || !FINAL_TRANSFER_ERRORS.includes(error.code)) throw error;
            return this.transition(p, S.FAILED, { failureReason: transferFailureReason(error) });
          }
          this.afterStep(p.authorization ? 'hold' : 'debit', p);
          // Posted (idempotently by transfer id): settled, in the same write as the step.
          return this.transition(p, postedStatus(p), { steps: { ...p.steps, transfer: { at: new Date() } } });
        }
        return this.transition(p, postedStatus(p));
      }
      default:
        return 'wait';
    }
  }

  /** The missing risk decision and screening, asked at once; the payment with both, in memory. */
  private async assessAndScreen(p: PaymentDoc): Promise<PaymentDoc> {
    const [risk, compliance] = await Promise.all([
      p.steps.risk ?? this.collaborators.assessPayment(this.assessInput(p)).then((decision) => this.afterStep('risk', { decision, at: new Date() })),
      p.steps.compliance ?? this.collaborators.screenPayment(this.screeningInput(p)).then((status) => this.afterStep('compliance', { status, at: new Date() })),
    ]);
    return { ...p, steps: { ...p.steps, risk, compliance } };
  }

  /** Risk approved and screening done: block, wait for review, wait for approvals, or process. */
  private afterScreening(p: PaymentDoc): Promise<PaymentDoc | null> {
    const screening = p.steps.compliance!.status;
    if (screening === 'BLOCKED') return this.transition(p, S.BLOCKED, { failureReason: 'blocked by sanctions screening' });
    if (screening === 'POTENTIAL_MATCH') {
      if (p.status === S.REQUIRES_REVIEW) return this.update(p, { waitingFor: 'compliance' });
      return this.transition(p, S.REQUIRES_REVIEW, { waitingFor: 'compliance' });
    }
    if (!approvalsComplete(p)) return this.transition(p, S.REQUIRES_APPROVAL);
    return this.transition(p, S.PROCESSING);
  }

  /** TEST ONLY fault injection: stop dead right after a step's collaborator answered, before its result is written. */
  afterStep<T>(step: CrashStep, result: T): T {
    if (this.config.crashAfterStep === step) {
      this.log.warn({ step }, 'PAYGRAPH_CRASH_AFTER_STEP: exiting (test-only fault injection)');
      process.exit(137);
    }
    return result;
  }

  private async postTransfers(p: PaymentDoc): Promise<void> {
    if (p.fx) {
      // Cross-currency (an account in another currency, or a payout): one leg per currency
      // through the house's FX positions (fx-transfer.ts), each idempotent by its own id.
      const isFinal = (error: unknown) => isPaygraphError(error) && FINAL_TRANSFER_ERRORS.includes(error.code);
      await postFxLegs({ ...p, fx: p.fx }, this.collaborators, isFinal, () => this.afterStep('fx-in', undefined));
      return;
    }
    if (p.destinationAccountId) {
      await this.collaborators.postTransfer({
        transferId: p._id, paymentId: p._id, debitAccountId: p.sourceAccountId, creditAccountId: p.destinationAccountId, amountMinor: p.amountMinor, currency: p.currency,
      });
      return;
    }
    const settlement = await this.collaborators.systemAccountId('EXTERNAL_SETTLEMENT', p.currency);
    await this.collaborators.postTransfer({
      transferId: p._id, paymentId: p._id, debitAccountId: p.sourceAccountId, creditAccountId: settlement, amountMinor: p.amountMinor, currency: p.currency,
    });
  }

  assessInput(p: PaymentDoc) {
    return {
      paymentId: p._id,
      sourceAccountId: p.sourceAccountId,
      customerId: p.sourceCustomerId,
      customerCountry: p.parties.customerCountry,
      accountCreatedAt: p.parties.accountCreatedAt,
      amountMinor: p.amountMinor,
      currency: p.currency,
      usdEquivalentMinor: p.usdEquivalentMinor,
      counterpartyCountry: p.parties.counterpartyCountry,
      crossBorder: p.parties.crossBorder,
    };
  }

  screeningInput(p: Pick<PaymentDoc, '_id' | 'sourceCustomerId' | 'parties' | 'sourceAccountId' | 'destinationAccountId' | 'beneficiary' | 'amountMinor' | 'currency' | 'usdEquivalentMinor'>): ScreeningInput {
    return {
      paymentId: p._id,
      customerId: p.sourceCustomerId,
      customerName: p.parties.customerName,
      customerCountry: p.parties.customerCountry,
      sourceAccountId: p.sourceAccountId,
      destinationAccountId: p.destinationAccountId,
      beneficiaryName: p.beneficiary?.name ?? null,
      beneficiaryCountry: p.beneficiary?.country ?? null,
      beneficiaryAccountNumber: p.beneficiary?.accountNumber ?? null,
      beneficiaryAddress: p.beneficiary?.address ?? null,
      counterpartyCustomerId: p.parties.counterpartyCustomerId,
      counterpartyName: p.parties.counterpartyName,
      amountMinor: p.amountMinor,
      currency: p.currency,
      usdEquivalentMinor: p.usdEquivalentMinor,
      crossBorder: p.parties.crossBorder,
    };
  }

  // ---- refunds (posted after being reserved on the payment) ----

  /** Posts a reserved refund (idempotent by its transfer id) and records it. */
  async finishRefund(id: string, requestId: string): Promise<PaymentDoc> {
    let p = await this.load(id);
    let refund = p.refunds.find((r) => r.requestId === requestId);
    if (!refund) throw notFound('refund', requestId);
    if (refund.state === 'failed') throw new PaygraphError(ErrorCode.INSUFFICIENT_FUNDS, 'the refund could not be posted: insufficient funds');
    if (refund.state === 'pending') {
      try {
        await this.postRefund(p, refund);
      } catch (error) {
        if (!isPaygraphError(error) || !FINAL_TRANSFER_ERRORS.includes(error.code)) throw error;
        for (;;) {
          const marked = await this.update(p, { refunds: p.refunds.map((r) => (r.requestId === requestId ? { ...r, state: 'failed' as const } : r)) });
          if (marked) break;
          p = await this.load(id);
        }
        throw error;
      }
      for (;;) {
        refund = p.refunds.find((r) => r.requestId === requestId)!;
        if (refund.state !== 'pending') break;
        const refundedMinor = p.refundedMinor + refund.amountMinor;
        const to = refundedMinor === settledAmountMinor(p) ? S.REFUNDED : S.PARTIALLY_REFUNDED;
        const refunds = p.refunds.map((r) => (r.requestId === requestId ? { ...r, state: 'posted' as const } : r));
        const next = await this.transition(p, to, { refunds, refundedMinor });
        if (next) {
          p = next;
          break;
        }
        p = await this.load(id);
      }
    }
    return this.finish(p);
  }

  private async postRefund(p: PaymentDoc, refund: RefundRecord): Promise<void> {
    const from = p.destinationAccountId ?? (await this.collaborators.systemAccountId('EXTERNAL_SETTLEMENT', p.currency));
    await this.collaborators.postTransfer({
      transferId: refund.transferId, paymentId: p._id, debitAccountId: from, creditAccountId: p.sourceAccountId, amountMinor: refund.amountMinor, currency: p.currency,
    });
  }

  // ---- resume after a crash ----

  /** Drives every unfinished payment once; started at process start and then periodically. */
  async resumeUnfinished(): Promise<number> {
    await this.repository.purgeExpiredKeys();
    const unfinished = await this.repository.findUnfinished();
    let resumed = 0;
    for (const p of unfinished) {
      if (this.closed) break;
      try {
        for (const refund of p.refunds.filter((r) => r.state === 'pending')) {
          await this.exclusive(p._id, () => this.finishRefund(p._id, refund.requestId)).catch((error) => {
            this.log.warn({ err: error, paymentId: p._id }, 'refund not finished on resume');
          });
        }
        await this.drive(p._id);
        resumed++;
      } catch (error) {
        this.log.warn({ err: error, paymentId: p._id }, 'payment not resumed; will retry');
      }
    }
    return resumed;
  }

  start(): void {
    if (!this.config.resumeSweep) return;
    const run = () => {
      // One pass at a time: a pass slowed by an outage must not be joined by the next tick's.
      if (this.resuming || this.closed) return;
      this.resuming = this.resumeUnfinished()
        .catch((error) => this.log.error({ err: error }, 'resume of unfinished payments failed'))
        .finally(() => (this.resuming = undefined));
    };
    run();
    if (this.config.resumeIntervalMs > 0) {
      this.timer = setInterval(run, this.config.resumeIntervalMs);
      this.timer.unref();
    }
  }

  /** No new resume pass; resolves when the running one has finished its current payment. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.resuming;
  }
}

/** The status changes of `p` whose events may not be in the log yet, oldest first. */
function eventsDue(p: PaymentDoc): PaymentDoc['lastChange'][] {
  if (!p.eventPending) return [];
  return p.eventsDue?.length ? p.eventsDue : [p.lastChange];
}
