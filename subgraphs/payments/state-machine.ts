import { ErrorCode, PaygraphError } from '../../runtime/errors';

/** The payment statuses of API.md. */
export const PaymentStatus = {
  PENDING: 'PENDING',
  REQUIRES_REVIEW: 'REQUIRES_REVIEW',
  REQUIRES_APPROVAL: 'REQUIRES_APPROVAL',
  PROCESSING: 'PROCESSING',
  SETTLED: 'SETTLED',
  FAILED: 'FAILED',
  DECLINED: 'DECLINED',
  BLOCKED: 'BLOCKED',
  CANCELED: 'CANCELED',
  REFUNDED: 'REFUNDED',
  PARTIALLY_REFUNDED: 'PARTIALLY_REFUNDED',
  /** Two-phase payments (authorizePayment): the amount is held on the source account. */
  AUTHORIZED: 'AUTHORIZED',
  /** The hold was released by voidPayment; no money moved. */
  VOIDED: 'VOIDED',
  /** The hold was not captured by its expiresAt and was released by the sweeper; no money moved. */
  EXPIRED: 'EXPIRED',
} as const;
export type PaymentStatus = (typeof PaymentStatus)[keyof typeof PaymentStatus];
export const PAYMENT_STATUSES = Object.values(PaymentStatus) as PaymentStatus[];

const S = PaymentStatus;

/**
 * Every allowed status change. Anything not listed is INVALID_STATE_TRANSITION.
 * PARTIALLY_REFUNDED → PARTIALLY_REFUNDED is a second partial refund: it is an event too.
 */
export const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  PENDING: [S.REQUIRES_REVIEW, S.REQUIRES_APPROVAL, S.PROCESSING, S.DECLINED, S.BLOCKED, S.CANCELED],
  REQUIRES_REVIEW: [S.REQUIRES_APPROVAL, S.PROCESSING, S.DECLINED, S.BLOCKED, S.CANCELED],
  REQUIRES_APPROVAL: [S.PROCESSING, S.DECLINED, S.CANCELED],
  PROCESSING: [S.SETTLED, S.FAILED, S.AUTHORIZED],
  // Captured (all or part: the rest is released) it is SETTLED like any payment.
  AUTHORIZED: [S.SETTLED, S.VOIDED, S.EXPIRED],
  SETTLED: [S.PARTIALLY_REFUNDED, S.REFUNDED],
  PARTIALLY_REFUNDED: [S.PARTIALLY_REFUNDED, S.REFUNDED],
  FAILED: [],
  DECLINED: [],
  BLOCKED: [],
  CANCELED: [],
  REFUNDED: [],
  VOIDED: [],
  EXPIRED: [],
};

/** Statuses a payment never leaves (refunds aside for SETTLED/PARTIALLY_REFUNDED). */
export const TERMINAL_STATUSES: readonly PaymentStatus[] = [S.FAILED, S.DECLINED, S.BLOCKED, S.CANCELED, S.REFUNDED, S.VOIDED, S.EXPIRED];
/** Statuses of a payment whose outcome is still open: the saga, a reviewer or an approver owes it a step. */
export const IN_FLIGHT_STATUSES: readonly PaymentStatus[] = [S.PENDING, S.REQUIRES_REVIEW, S.REQUIRES_APPROVAL, S.PROCESSING];
/** Statuses the saga drives on by itself (resumed after a crash). */
export const ACTIVE_STATUSES: readonly PaymentStatus[] = [S.PENDING, S.PROCESSING];
/** Statuses in which the payer may still cancel: no money has moved. */
export const CANCELABLE_STATUSES: readonly PaymentStatus[] = [S.PENDING, S.REQUIRES_REVIEW, S.REQUIRES_APPROVAL];
/** Statuses a refund may start from. */
export const REFUNDABLE_STATUSES: readonly PaymentStatus[] = [S.SETTLED, S.PARTIALLY_REFUNDED];

export function isPaymentStatus(value: unknown): value is PaymentStatus {
  return typeof value === 'string' && (PAYMENT_STATUSES as string[]).includes(value);
}

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

/** Throws INVALID_STATE_TRANSITION unless `from → to` is in the table. */
export function assertTransition(from: PaymentStatus, to: PaymentStatus): void {
  if (!canTransition(from, to)) {
    throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `a ${from} payment cannot become ${to}`, { from, to });
  }
}
