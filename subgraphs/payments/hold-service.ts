import type { Logger } from 'pino';
import { ErrorCode, isPaygraphError, PaygraphError } from '../../runtime/errors';
import { requireScope, type Identity } from '../../runtime/identity';
import type { Collaborators } from './collaborators';
import { captureAmountMinor, CLOSED_STATUS, judgeClose, resolveExpiresAt, type HoldCloseKind, type HoldsConfig } from './holds';
import type { PaymentService } from './payment-service';
import type { PaymentDoc, PaymentsRepository } from './repository';
import type { PaymentSaga } from './saga';
import { PaymentStatus } from './state-machine';

/** Ledger refusals that leave a capture undone (the hold stays, to be voided or to expire); anything else is retried. */
const FINAL_CAPTURE_ERRORS: string[] = [ErrorCode.FORBIDDEN, ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND];

/**
 * authorizePayment, capturePayment, voidPayment and expiry. A close is committed on the payment
 * first (`authorization.closing`, compare-and-set: one close wins, whoever asks), then asked of
 * the ledger, then written as the status it ends in with its event; each step is idempotent, so
 * the same request again, or the sweeper after a crash, finishes it with the same answer.
 */
export class PaymentHolds {
  constructor(
    private readonly repository: PaymentsRepository,
    private readonly saga: PaymentSaga,
    private readonly collaborators: Collaborators,
    private readonly payments: PaymentService,
    private readonly config: HoldsConfig,
    private readonly log: Logger,
  ) {}

  /** createPayment's steps, ending in AUTHORIZED with the amount held on the source account. */
  authorizePayment(identity: Identity, input: Record<string, unknown>): Promise<PaymentDoc> {
    requireScope(identity, 'payments:write');
    const { expiresAt, ...request } = input;
    const requested = expiresAt === undefined || expiresAt === null ? null : (expiresAt as Date);
    const terms = { expiresAt: resolveExpiresAt(expiresAt, new Date(), this.config), requestedExpiresAt: requested };
    return this.payments.createPayment(identity, request, terms);
  }

  /** Posts `amount` (all of the hold when null) to the payee; the rest is released. Ends SETTLED. */
  async capturePayment(identity: Identity, id: unknown, amount: unknown): Promise<PaymentDoc> {
    requireScope(identity, 'payments:write');
    const p = await this.payments.visiblePayment(identity, id);
    return this.close(p._id, 'capture', captureAmountMinor(amount, p), identity.subject);
  }

  /** Releases the hold. Ends VOIDED. */
  async voidPayment(identity: Identity, id: unknown): Promise<PaymentDoc> {
    requireScope(identity, 'payments:write');
    const p = await this.payments.visiblePayment(identity, id);
    return this.close(p._id, 'void', p.amountMinor, identity.subject);
  }

  /** The sweeper's: releases a lapsed hold (EXPIRED), or finishes the close a crash interrupted. */
  async expireOrFinish(p: PaymentDoc): Promise<PaymentDoc> {
    const closing = p.authorization?.closing;
    if (closing) return this.close(p._id, closing.kind, closing.amountMinor, closing.by);
    return this.close(p._id, 'expire', p.amountMinor, 'hold-sweeper');
  }

  private close(id: string, kind: HoldCloseKind, amountMinor: bigint, by: string): Promise<PaymentDoc> {
    return this.saga.exclusive(id, async () => {
      let p = await this.load(id);
      for (;;) {
        const decision = judgeClose(p, kind, amountMinor, new Date());
        if (decision === 'done') return p;
        if (decision === 'resume') return this.finishClose(p);
        const next = await this.saga.update(p, { authorization: { ...p.authorization!, closing: { kind, amountMinor, by, at: new Date() } } });
        if (next) return this.finishClose(next);
        p = await this.load(id);
      }
    });
  }

  /** Asks the ledger for the committed close, then records its status (and event). */
  private async finishClose(p: PaymentDoc): Promise<PaymentDoc> {
    const auth = p.authorization!;
    const closing = auth.closing!;
    try {
      if (closing.kind === 'capture') {
        const creditAccountId = p.destinationAccountId ?? (await this.collaborators.systemAccountId('EXTERNAL_SETTLEMENT', p.currency));
        await this.collaborators.captureHold({ paymentId: p._id, creditAccountId, amountMinor: closing.amountMinor });
      } else {
        await this.collaborators.releaseHold(p._id);
      }
    } catch (error) {
      if (closing.kind === 'capture' && isPaygraphError(error) && FINAL_CAPTURE_ERRORS.includes(error.code)) await this.abandonCapture(p);
      throw error;
    }
    this.saga.afterStep('capture', undefined);
    const to = CLOSED_STATUS[closing.kind];
    const capturedMinor = closing.kind === 'capture' ? closing.amountMinor : null;
    for (;;) {
      const next = await this.saga.transition(p, to, {
        authorization: { ...auth, capturedMinor },
        ...(closing.kind === 'capture' ? {} : { failureReason: closing.kind === 'void' ? `voided by ${closing.by}` : 'the authorization expired' }),
      });
      if (next) return this.saga.finish(next);
      p = await this.load(p._id);
      if (p.status !== PaymentStatus.AUTHORIZED) return p;
    }
  }

  /** The ledger refused the capture for good (an account frozen meanwhile): the hold stays open, the payment AUTHORIZED. */
  private async abandonCapture(p: PaymentDoc): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      if (await this.saga.update(p, { authorization: { ...p.authorization!, closing: null } })) return;
      p = await this.load(p._id);
      if (p.authorization?.closing?.kind !== 'capture') return;
    }
    this.log.warn({ paymentId: p._id }, 'a refused capture could not be cleared; the sweeper will retry it');
  }

  private async load(id: string): Promise<PaymentDoc> {
    const p = await this.repository.findPayment(id);
    if (!p) throw new PaygraphError(ErrorCode.NOT_FOUND, `payment ${id} not found`, { id });
    return p;
  }
}
