import { ObjectId } from 'mongodb';
import type { Logger } from 'pino';
import { badInput, ErrorCode, notFound, PaygraphError } from '../../runtime/errors';
import { canSeeCustomer, requireScope, type Identity } from '../../runtime/identity';
import { parseDecimal } from '../../runtime/money';
import type { AccountFacts, Collaborators } from './collaborators';
import type { PaymentsConfig } from './config';
import { quote, usdEquivalentMinor, type RateTable } from './fx';
import { answerFxQuote, quoteFxTransfer } from './fx-quote';
import { assertRefundable } from './fx-transfer';
import { idempotencyKeyId, type PaymentDoc, type PaymentsRepository } from './repository';
import {
  assertSameRequest, checkApprover, paymentFingerprint, requestFingerprint, validateCreatePayment, validateId, validateIdempotencyKey,
} from './rules';
import type { SignedApprovalInput, SignedApprovals } from './signed-approvals';
import { approvalRequirement } from './signing-policy';
import { AdmissionQueue } from '../../runtime/admission-queue';
import { authorizationFingerprint, newAuthorization, settledAmountMinor, type AuthorizationTerms } from './holds';
import { countStatusChange, paymentsRefused } from './metrics';
import type { PaymentSaga } from './saga';
import { CANCELABLE_STATUSES, PaymentStatus, REFUNDABLE_STATUSES } from './state-machine';

const S = PaymentStatus;

export function newPaymentId(): string {
  return `pay_${new ObjectId().toHexString()}`;
}

/** The payment's accounts: the source, and the destination when it pays one of ours. */
function accountIdsOf(request: ReturnType<typeof validateCreatePayment>): string[] {
  return [request.sourceAccountId, ...(request.destinationAccountId ? [request.destinationAccountId] : [])];
}

/** Whether `identity` may see the payment: staff always, a customer if it is a party. */
export function canSeePayment(identity: Identity, p: Pick<PaymentDoc, 'customerIds'>): boolean {
  if (identity.internal || identity.customerId === undefined) return true;
  return p.customerIds.includes(identity.customerId);
}

/** The payment commands of the public API; each authorises, validates and hands over to the saga. */
export class PaymentService {
  /** New payments queue here under a burst; past the queue they are refused before anything is stored. */
  private readonly admission: AdmissionQueue;

  constructor(
    private readonly repository: PaymentsRepository,
    private readonly saga: PaymentSaga,
    private readonly collaborators: Collaborators,
    private readonly rates: RateTable,
    private readonly config: PaymentsConfig,
    private readonly log: Logger,
    /** Approver keys and signed approvals (signed-approvals.ts). */
    readonly signatures: SignedApprovals,
  ) {
    this.admission = new AdmissionQueue(config.admission, 'payments', () => paymentsRefused.inc());
  }

  /** `authorization` set: authorizePayment (hold-service.ts), the same saga ending in a hold, with its own idempotency keys. */
  async createPayment(identity: Identity, input: Record<string, unknown>, authorization?: AuthorizationTerms): Promise<PaymentDoc> {
    requireScope(identity, 'payments:write');
    const request = validateCreatePayment(input);
    return this.admission.run(() => this.admitted(identity, request, authorization));
  }

  private async admitted(identity: Identity, request: ReturnType<typeof validateCreatePayment>, authorization?: AuthorizationTerms): Promise<PaymentDoc> {
    const scope = authorization ? 'authorizePayment' : 'createPayment';
    const fingerprint = authorization ? authorizationFingerprint(paymentFingerprint(request), authorization) : paymentFingerprint(request);
    const ids = accountIdsOf(request);
    const now = new Date();
    const keyId = idempotencyKeyId(identity.subject, scope, request.idempotencyKey);
    // The key is claimed first (one insert; a replay learns its payment from the collision),
    // while the accounts are read; a refusal below releases it, so it does not stick.
    const claiming = this.repository.claimKey({ _id: keyId, subject: identity.subject, scope, key: request.idempotencyKey, fingerprint, paymentId: newPaymentId(), createdAt: now });
    const facts = this.collaborators.accountFacts(ids);
    facts.catch(() => undefined); // awaited below, unless the claim fails first: never an unhandled rejection
    const claim = await claiming;
    const paymentId = claim.claimed ? claim.paymentId : claim.existing.paymentId;
    const release = async (error: unknown): Promise<never> => {
      if (claim.claimed) await this.repository.releaseKey(keyId, paymentId);
      throw error;
    };
    const [source, destination] = await facts.catch(release);
    if (!claim.claimed) {
      // The same request gets the same payment; a key whose payment is not stored yet (a crash,
      // or a concurrent request still screening) gets it stored under the key's payment id.
      assertSameRequest(claim.existing.fingerprint, fingerprint, request.idempotencyKey);
      if (await this.repository.findPayment(paymentId)) return this.driveQuietly(paymentId);
    }
    const doc = await this.newPayment(identity, request, paymentId, source, destination, now, authorization).catch(release);
    // Inserted here, leased to this process, and driven on from memory.
    if (await this.repository.insertPayment(doc)) {
      countStatusChange(doc.status);
      return this.driveQuietly(doc._id, doc);
    }
    return this.driveQuietly(paymentId);
  }

  /** The payment a valid request becomes; refused (BAD_USER_INPUT, NOT_FOUND, the prescreen's codes) before anything is stored. */
  private async newPayment(
    identity: Identity,
    request: ReturnType<typeof validateCreatePayment>,
    paymentId: string,
    source: AccountFacts | null,
    destination: AccountFacts | null,
    now: Date,
    authorization?: AuthorizationTerms,
  ): Promise<PaymentDoc> {
    const ids = accountIdsOf(request);
    if (!source || !canSeeCustomer(identity, source.customerId)) throw notFound('account', request.sourceAccountId);
    if (source.status !== 'ACTIVE') throw badInput(`the source account is ${source.status}`, { field: 'sourceAccountId' });
    if (request.currency !== source.currency) {
      throw badInput(`the amount is in ${request.currency} but the source account holds ${source.currency}`, { field: 'amount.currency' });
    }
    if (request.destinationAccountId) {
      if (!destination) throw notFound('account', request.destinationAccountId);
      if (destination.status !== 'ACTIVE') throw badInput(`the destination account is ${destination.status}`, { field: 'destinationAccountId' });
    }
    const beneficiary = request.beneficiary;
    const fx = beneficiary && beneficiary.currency !== request.currency ? quote(this.rates, request.amountMinor, request.currency, beneficiary.currency)
      // An account in another currency: the rate (less the house's spread) is locked now (fx-quote.ts).
      : destination && destination.currency !== request.currency ? quoteFxTransfer(this.rates, request.amountMinor, request.currency, destination.currency, this.config.fxTransfers.spreadBps, now)
      : null;
    const usdMinor = usdEquivalentMinor(this.rates, request.amountMinor, request.currency);
    const counterpartyCountry = beneficiary?.country ?? destination?.customerCountry ?? null;
    const customerIds = [...new Set([source.customerId, ...(destination ? [destination.customerId] : [])])];
    const doc: PaymentDoc = {
      _id: paymentId,
      status: S.PENDING,
      version: 0,
      lastChange: { number: 1, status: S.PENDING, previousStatus: null, at: now },
      eventPending: true,
      eventsDue: [{ number: 1, status: S.PENDING, previousStatus: null, at: now }],
      createdBy: identity.subject,
      idempotencyKey: request.idempotencyKey,
      sourceAccountId: request.sourceAccountId,
      sourceCustomerId: source.customerId,
      destinationAccountId: request.destinationAccountId,
      destinationCustomerId: destination?.customerId ?? null,
      accountIds: ids,
      customerIds,
      beneficiary,
      amountMinor: request.amountMinor,
      currency: request.currency,
      usdEquivalentMinor: usdMinor,
      fx,
      reference: request.reference,
      parties: {
        customerName: source.customerName,
        customerCountry: source.customerCountry,
        accountCreatedAt: new Date(source.createdAt).toISOString(),
        counterpartyCustomerId: destination?.customerId ?? null,
        counterpartyName: destination?.customerName ?? null,
        counterpartyCountry,
        // A currency exchange between accounts of ours is not cross-border by itself; a payout in another currency is.
        crossBorder: (Boolean(fx) && beneficiary !== null) || (counterpartyCountry !== null && counterpartyCountry !== source.customerCountry),
      },
      // Maker-checker count, raised to the signature band's (signing-policy.ts).
      ...approvalRequirement(usdMinor, this.config),
      approvals: [],
      steps: {},
      waitingFor: null,
      failureReason: null,
      refundedMinor: 0n,
      refunds: [],
      ...(authorization ? { authorization: newAuthorization(authorization, fx) } : {}),
      // Inserted leased to this process, which drives it on at once.
      ...this.saga.newLease(now),
      createdAt: now,
      updatedAt: now,
    };

    // The travel rule and KYC limits refuse the payment before it is stored.
    await this.collaborators.preScreenPayment(this.saga.screeningInput(doc));
    return doc;
  }

  /** Drives the saga (a payment just inserted, or one read first); a collaborator outage leaves the payment where it is, to be resumed. */
  private async driveQuietly(id: string, inserted?: PaymentDoc): Promise<PaymentDoc> {
    try {
      return await (inserted ? this.saga.driveNew(inserted) : this.saga.drive(id));
    } catch (error) {
      this.log.error({ err: error, paymentId: id }, 'payment saga stopped; it will be resumed');
      const p = await this.repository.findPayment(id);
      if (!p) throw error;
      return p;
    }
  }

  async visiblePayment(identity: Identity, id: unknown): Promise<PaymentDoc> {
    const paymentId = validateId(id, 'id');
    const p = await this.repository.findPayment(paymentId);
    if (!p || !canSeePayment(identity, p)) throw notFound('payment', paymentId);
    return p;
  }

  async approvePayment(identity: Identity, id: unknown, signed: SignedApprovalInput = {}): Promise<PaymentDoc> {
    requireScope(identity, 'payments:approve');
    let p = await this.visiblePayment(identity, id);
    for (;;) {
      // Checked before anything is written; the same key's signature again is the same approval.
      const approval = await this.signatures.approvalFor(identity, p, signed);
      if (approval === 'recorded') break;
      if (p.status !== S.REQUIRES_APPROVAL) {
        throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `a ${p.status} payment cannot be approved`, { status: p.status });
      }
      const earlier = await this.signatures.markRevokedKeys(p);
      checkApprover(p.createdBy, this.signatures.standingApprovals({ ...p, approvals: earlier }), approval.approver);
      const next = await this.saga.update(p, { approvals: [...earlier, approval] });
      if (next) break;
      p = await this.visiblePayment(identity, p._id);
    }
    return this.driveQuietly(p._id);
  }

  async rejectPayment(identity: Identity, id: unknown, reason: unknown): Promise<PaymentDoc> {
    requireScope(identity, 'payments:approve');
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 500) {
      throw badInput('reason must be 1 to 500 characters', { field: 'reason' });
    }
    return this.endBeforeMoneyMoves(identity, id, S.DECLINED, `rejected: ${reason.trim()}`, [S.REQUIRES_APPROVAL, S.REQUIRES_REVIEW]);
  }

  async cancelPayment(identity: Identity, id: unknown): Promise<PaymentDoc> {
    requireScope(identity, 'payments:write');
    const p = await this.visiblePayment(identity, id);
    // A customer cancels only payments it pays from.
    if (identity.customerId !== undefined && !identity.internal && p.sourceCustomerId !== identity.customerId) {
      throw new PaygraphError(ErrorCode.FORBIDDEN, 'only the payer can cancel a payment');
    }
    return this.endBeforeMoneyMoves(identity, p._id, S.CANCELED, `canceled by ${identity.subject}`, CANCELABLE_STATUSES);
  }

  private async endBeforeMoneyMoves(identity: Identity, id: unknown, to: PaymentStatus, reason: string, from: readonly PaymentStatus[]): Promise<PaymentDoc> {
    let p = await this.visiblePayment(identity, id);
    return this.saga.exclusive(p._id, async () => {
      for (;;) {
        if (!from.includes(p.status)) {
          throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `a ${p.status} payment cannot become ${to}`, { from: p.status, to });
        }
        const next = await this.saga.transition(p, to, { failureReason: reason, waitingFor: null });
        if (next) return this.saga.finish(next);
        p = await this.visiblePayment(identity, p._id);
      }
    });
  }

  async refundPayment(identity: Identity, input: Record<string, unknown>): Promise<PaymentDoc> {
    requireScope(identity, 'payments:write');
    const paymentId = validateId(input.paymentId, 'paymentId');
    const key = validateIdempotencyKey(input.idempotencyKey);
    const amountInput = (input.amount ?? {}) as { amount?: unknown; currency?: unknown };
    if (typeof amountInput.amount !== 'string' || typeof amountInput.currency !== 'string') throw badInput('amount is required', { field: 'amount' });
    const amount = parseDecimal(amountInput.amount, amountInput.currency);
    const original = await this.visiblePayment(identity, paymentId);
    // The payee gives the money back; a payer cannot claw it back by itself.
    if (identity.customerId !== undefined && !identity.internal && original.destinationCustomerId !== identity.customerId) {
      throw new PaygraphError(ErrorCode.FORBIDDEN, 'only the payee or staff can refund a payment');
    }
    const fingerprint = requestFingerprint('refundPayment', { paymentId, amountMinor: amount.minor, currency: amount.currency });
    const requestId = idempotencyKeyId(identity.subject, 'refundPayment', key);

    // The key is recorded only once the refund is valid: a refused refund changes nothing.
    return this.saga.exclusive(paymentId, async () => {
      for (;;) {
        const p = await this.visiblePayment(identity, paymentId);
        const existing = await this.repository.findKey(identity.subject, 'refundPayment', key);
        if (existing) {
          assertSameRequest(existing.fingerprint, fingerprint, key);
          if (p.refunds.some((r) => r.requestId === requestId)) return this.saga.finishRefund(paymentId, requestId);
        }
        if (!REFUNDABLE_STATUSES.includes(p.status)) {
          throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `a ${p.status} payment cannot be refunded`, { status: p.status });
        }
        assertRefundable(p);
        if (amount.currency !== p.currency) throw badInput(`the refund must be in ${p.currency}`, { field: 'amount.currency' });
        const reserved = p.refundedMinor + p.refunds.filter((r) => r.state === 'pending').reduce((sum, r) => sum + r.amountMinor, 0n);
        if (amount.minor > settledAmountMinor(p) - reserved) {
          throw badInput('the refund exceeds the settled amount minus earlier refunds', { field: 'amount', refundableMinor: String(settledAmountMinor(p) - reserved) });
        }
        if (!existing) {
          const claim = await this.repository.claimKey({ _id: requestId, subject: identity.subject, scope: 'refundPayment', key, fingerprint, paymentId, createdAt: new Date() });
          if (!claim.claimed) continue; // another request with this key got there first: look again
        }
        const number = p.refunds.length + 1;
        const refund = {
          number, requestId, amountMinor: amount.minor, transferId: `${p._id}:refund:${number}`, state: 'pending' as const, requestedBy: identity.subject, createdAt: new Date(),
        };
        if (await this.saga.update(p, { refunds: [...p.refunds, refund] })) return this.saga.finishRefund(paymentId, requestId);
      }
    });
  }

  /** `fxQuote`: what a cross-currency transfer of this amount would lock now. */
  fxQuote(identity: Identity, args: { amount?: unknown; to?: unknown }) {
    requireScope(identity, 'payments:read');
    return answerFxQuote(this.rates, this.config.fxTransfers, args);
  }

  /** `verifyPaymentApprovals`: every approval re-verified against the stored instruction and the key registry. */
  async verifyPaymentApprovals(identity: Identity, id: unknown) {
    requireScope(identity, 'payments:read');
    return this.signatures.verify(await this.visiblePayment(identity, id));
  }

  /** Internal: a review elsewhere has decided; drive the saga on. */
  async continuePayment(id: unknown): Promise<PaymentDoc> {
    const paymentId = validateId(id, 'id');
    if (!(await this.repository.findPayment(paymentId))) throw notFound('payment', paymentId);
    return this.saga.drive(paymentId);
  }
}
