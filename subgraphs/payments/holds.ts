import { badInput, ErrorCode, PaygraphError } from '../../runtime/errors';
import { parseDecimal } from '../../runtime/money';
import { requestFingerprint } from './rules';
import type { Collaborators } from './collaborators';
import { PaymentStatus } from './state-machine';

/**
 * Two-phase payments (authorizePayment → capturePayment / voidPayment / expiry) as pure rules.
 * An authorization runs the saga of any payment (risk, compliance, approvals) and ends in
 * AUTHORIZED with its amount held on the source account (accounts: holds.ts); a close (capture,
 * void, expiry) is first recorded on the payment (`closing`, compare-and-set: only one close
 * ever wins), then asked of the ledger (idempotent by payment id), then written as its status.
 */

export type HoldCloseKind = 'capture' | 'void' | 'expire';

/** The close a payment is committed to; a resumer finishes exactly this one. */
export interface HoldClosing {
  kind: HoldCloseKind;
  /** Captured amount (a capture), the held amount otherwise. */
  amountMinor: bigint;
  by: string;
  at: Date;
}

/** Stored on a payment made by authorizePayment. */
export interface AuthorizationRecord {
  expiresAt: Date;
  closing: HoldClosing | null;
  /** Set once captured: what the payee got (the rest of the hold was released). */
  capturedMinor: bigint | null;
}

export interface HoldsConfig {
  /** How long a hold lasts when authorizePayment names no expiresAt (PAYGRAPH_HOLD_DEFAULT_TTL_MS, default 7 days). */
  defaultTtlMs: number;
  /** The latest expiresAt accepted, from now (PAYGRAPH_HOLD_MAX_TTL_MS, default 30 days). */
  maxTtlMs: number;
  /** How often expired holds are looked for (PAYGRAPH_HOLD_SWEEP_INTERVAL_MS, default 5000; 0 = never). */
  sweepIntervalMs: number;
  /** How long one instance owns the sweep (PAYGRAPH_HOLD_SWEEP_LEASE_MS, default 30000). */
  sweepLeaseMs: number;
}

/** The status a close ends in: a capture settles the payment like any other. */
export const CLOSED_STATUS: Readonly<Record<HoldCloseKind, PaymentStatus>> = {
  capture: PaymentStatus.SETTLED,
  void: PaymentStatus.VOIDED,
  expire: PaymentStatus.EXPIRED,
};

/** When the hold lapses: the input's expiresAt (a Date from the DateTime scalar), else now + the default; never past, never beyond the maximum. */
export function resolveExpiresAt(input: unknown, now: Date, config: Pick<HoldsConfig, 'defaultTtlMs' | 'maxTtlMs'>): Date {
  if (input === undefined || input === null) return new Date(now.getTime() + config.defaultTtlMs);
  if (!(input instanceof Date) || Number.isNaN(input.getTime())) throw badInput('expiresAt must be a DateTime', { field: 'expiresAt' });
  if (input.getTime() <= now.getTime()) throw badInput('expiresAt must be in the future', { field: 'expiresAt' });
  if (input.getTime() > now.getTime() + config.maxTtlMs) {
    throw badInput(`expiresAt may be at most ${Math.floor(config.maxTtlMs / 1000)} seconds from now`, { field: 'expiresAt' });
  }
  return input;
}

/** What capturePayment captures: the whole hold when no amount is given; else 0 < amount ≤ held, in the payment's currency. */
export function captureAmountMinor(amount: unknown, p: { amountMinor: bigint; currency: string }): bigint {
  if (amount === undefined || amount === null) return p.amountMinor;
  const { amount: value, currency } = amount as { amount?: unknown; currency?: unknown };
  if (typeof value !== 'string' || typeof currency !== 'string') throw badInput('amount needs amount and currency', { field: 'amount' });
  if (currency !== p.currency) throw badInput(`the capture must be in ${p.currency}`, { field: 'amount.currency' });
  const minor = parseDecimal(value, currency).minor;
  if (minor <= 0n || minor > p.amountMinor) throw badInput('the capture must be more than zero and at most the authorized amount', { field: 'amount' });
  return minor;
}

/**
 * Whether a close may start on this payment now: null when it may, the payment's answer when
 * the same close already ended it (a repeated request), or a refusal.
 */
export function judgeClose(
  p: { status: PaymentStatus; authorization?: AuthorizationRecord | null },
  kind: HoldCloseKind,
  amountMinor: bigint,
  now: Date,
): 'start' | 'resume' | 'done' {
  const auth = p.authorization;
  if (!auth) throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, 'only an authorized payment (authorizePayment) can be captured or voided', { status: p.status });
  if (p.status !== PaymentStatus.AUTHORIZED) {
    const same = CLOSED_STATUS[kind] === p.status && (kind !== 'capture' || auth.capturedMinor === amountMinor);
    if (same) return 'done';
    throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `a ${p.status} payment cannot be ${kind === 'capture' ? 'captured' : kind === 'void' ? 'voided' : 'expired'}`, { status: p.status });
  }
  if (auth.closing) {
    if (auth.closing.kind === kind && auth.closing.amountMinor === amountMinor) return 'resume';
    throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `the payment is already being closed (${auth.closing.kind})`, { status: p.status });
  }
  // A lapsed hold is the sweeper's: it is released, not captured late.
  if (kind !== 'expire' && auth.expiresAt.getTime() <= now.getTime()) {
    throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, 'the authorization has expired', { status: p.status });
  }
  if (kind === 'expire' && auth.expiresAt.getTime() > now.getTime()) {
    throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, 'the authorization has not expired yet', { status: p.status });
  }
  return 'start';
}

/** The amount a payment moved: all of it, or what was captured of an authorization (refunds are bounded by it). */
export function settledAmountMinor(p: { amountMinor: bigint; authorization?: AuthorizationRecord | null }): bigint {
  return p.authorization?.capturedMinor ?? p.amountMinor;
}

/** Where a posted payment goes: an authorization is AUTHORIZED (held), any other payment SETTLED. */
export function postedStatus(p: { authorization?: AuthorizationRecord | null }): PaymentStatus {
  return p.authorization ? PaymentStatus.AUTHORIZED : PaymentStatus.SETTLED;
}

/** The saga's posting step for an authorization: the amount held on the source (idempotent by payment id). */
export function placeHoldFor(p: { _id: string; sourceAccountId: string; amountMinor: bigint; currency: string }, collaborators: Pick<Collaborators, 'placeHold'>): Promise<void> {
  return collaborators.placeHold({ paymentId: p._id, accountId: p.sourceAccountId, amountMinor: p.amountMinor, currency: p.currency });
}

/** What authorizePayment adds to a payment request. */
export interface AuthorizationTerms {
  expiresAt: Date;
  /** The expiresAt the caller gave (null: the default), part of the request's idempotency fingerprint. */
  requestedExpiresAt: Date | null;
}

/** An authorization's fingerprint: the payment request's, and the expiry asked for. */
export function authorizationFingerprint(paymentFingerprint: string, terms: AuthorizationTerms): string {
  return requestFingerprint('authorizePayment', { payment: paymentFingerprint, expiresAt: terms.requestedExpiresAt?.toISOString() ?? null });
}

/** The authorization record of a new payment; holds are in one currency (a conversion would have to be re-quoted at capture). */
export function newAuthorization(terms: AuthorizationTerms, fx: unknown): AuthorizationRecord {
  if (fx) throw badInput('an authorization must be in the currency of both accounts (no currency conversion)', { field: 'amount.currency' });
  return { expiresAt: terms.expiresAt, closing: null, capturedMinor: null };
}
