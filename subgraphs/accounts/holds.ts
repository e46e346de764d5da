import { ErrorCode, PaygraphError, badInput, forbidden } from '../../runtime/errors';
import { INT64_MAX } from '../../runtime/money';
import { availableOf, checkTransfer, insufficientFunds, mayOverdraw, withAvailable, type LedgerAccount, type LedgerPosition } from './ledger';
import type { LedgerRecordDoc } from './repository';

/**
 * Holds (two-phase payments) as pure functions. A hold is a ledger record under the account's
 * own gap-free sequence, so the unique (accountId, sequence) index serialises racing holds and
 * debits exactly as it serialises debits: a HOLD lowers the available balance, not the posted
 * one. A hold is closed once, by one record whose id is the hold's close id: a RELEASE (void,
 * expiry) or the capture's DEBIT, which posts the captured amount and releases the whole hold
 * in the same entry (so no crash can leave the hold released and the debit unposted).
 */

/** One hold per payment: its records' ids derive from the payment id. */
export interface HoldIds {
  holdTransferId: string;
  captureTransferId: string;
  holdEntryId: string;
  /** The one record that closes the hold: a RELEASE or the capture's DEBIT. */
  closeEntryId: string;
  captureCreditId: string;
}

export function holdIds(paymentId: string): HoldIds {
  const holdTransferId = `${paymentId}:hold`;
  const captureTransferId = `${paymentId}:capture`;
  return {
    holdTransferId,
    captureTransferId,
    holdEntryId: `led_${holdTransferId}/hold`,
    closeEntryId: `led_${holdTransferId}/close`,
    captureCreditId: `led_${captureTransferId}/credit`,
  };
}

export interface PlaceHoldRequest {
  paymentId: string;
  accountId: string;
  amountMinor: bigint;
  currency: string;
}

/** What the records of a hold, as read, say about it. */
export type HoldState =
  | { kind: 'none' }
  | { kind: 'held'; hold: LedgerRecordDoc }
  | { kind: 'released'; hold: LedgerRecordDoc; release: LedgerRecordDoc }
  /** Captured; `credit` absent when a crash left the credit leg unposted (finish it). */
  | { kind: 'captured'; hold: LedgerRecordDoc; debit: LedgerRecordDoc; credit?: LedgerRecordDoc };

export function holdState(paymentId: string, records: readonly LedgerRecordDoc[]): HoldState {
  const ids = holdIds(paymentId);
  const byId = new Map(records.map((record) => [record._id, record]));
  const hold = byId.get(ids.holdEntryId);
  if (!hold) return { kind: 'none' };
  const close = byId.get(ids.closeEntryId);
  if (!close) return { kind: 'held', hold };
  if (close.direction === 'RELEASE') return { kind: 'released', hold, release: close };
  return { kind: 'captured', hold, debit: close, credit: byId.get(ids.captureCreditId) };
}

function invalidState(message: string, paymentId: string): PaygraphError {
  return new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, message, { paymentId });
}

/** A hold already placed must be this request's hold, else the payment id is being reused. */
export function checkSameHold(request: PlaceHoldRequest, hold: LedgerRecordDoc): void {
  if (hold.accountId !== request.accountId || hold.amountMinor !== request.amountMinor || hold.currency !== request.currency) {
    throw new PaygraphError(ErrorCode.IDEMPOTENCY_KEY_REUSED, `a different hold was already placed for payment ${request.paymentId}`, { paymentId: request.paymentId });
  }
}

/** The HOLD record for `request` after the account's newest position: refused (INSUFFICIENT_FUNDS) beyond the available balance. */
export function planHold(request: PlaceHoldRequest, account: LedgerAccount, latest: LedgerPosition | null, now: Date): LedgerRecordDoc {
  if (request.amountMinor <= 0n || request.amountMinor > INT64_MAX) throw badInput('amountMinor must be greater than zero and within range', { field: 'amountMinor' });
  if (account.currency !== request.currency) {
    throw badInput(`currency mismatch: account ${account.id} holds ${account.currency}, the hold is in ${request.currency}`, { field: 'currency' });
  }
  if (account.status !== 'ACTIVE') throw forbidden(`account ${account.id} is ${account.status.toLowerCase()} and cannot take part in transfers`);
  const available = availableOf(latest);
  const availableAfterMinor = available - request.amountMinor;
  if (availableAfterMinor < 0n && !mayOverdraw(account)) throw insufficientFunds(account.id, available, request.amountMinor, account.currency);
  const balance = latest?.balanceAfterMinor ?? 0n;
  return record(holdIds(request.paymentId).holdEntryId, `${request.paymentId}:hold`, 'HOLD', request.paymentId, account.id, request.amountMinor, request.currency,
    withAvailable((latest?.sequence ?? 0) + 1, balance, availableAfterMinor), request.amountMinor, now);
}

/** The open hold that a capture or a release closes: NOT_FOUND without one, INVALID_STATE_TRANSITION when it is closed already. */
export function requireOpenHold(paymentId: string, state: HoldState, closing: 'captured' | 'released'): LedgerRecordDoc {
  if (state.kind === 'none') throw new PaygraphError(ErrorCode.NOT_FOUND, `payment ${paymentId} holds nothing`, { paymentId });
  if (state.kind !== 'held') throw invalidState(`the hold of payment ${paymentId} was ${state.kind} and cannot be ${closing}`, paymentId);
  return state.hold;
}

/** The RELEASE record closing `hold` (void or expiry): the held amount is available again. No status check: releasing never moves money. */
export function planRelease(paymentId: string, hold: LedgerRecordDoc, latest: LedgerPosition, now: Date): LedgerRecordDoc {
  return record(holdIds(paymentId).closeEntryId, hold.transferId, 'RELEASE', paymentId, hold.accountId, hold.amountMinor, hold.currency,
    withAvailable(latest.sequence + 1, latest.balanceAfterMinor, availableOf(latest) + hold.amountMinor), -hold.amountMinor, now);
}

export interface CaptureRequest {
  paymentId: string;
  creditAccountId: string;
  amountMinor: bigint;
}

/**
 * The capture's DEBIT (posting `amountMinor` and releasing the whole hold: a partial capture
 * gives the rest back in the same entry) and the CREDIT to the payee. Checked like a transfer
 * (both accounts active, one currency); it cannot overdraw, the hold covers it.
 */
export function planCapture(
  request: CaptureRequest,
  hold: LedgerRecordDoc,
  source: LedgerAccount,
  credit: LedgerAccount,
  sourceLatest: LedgerPosition,
  creditLatest: LedgerPosition | null,
  now: Date,
): LedgerRecordDoc[] {
  const { paymentId } = request;
  if (request.amountMinor <= 0n || request.amountMinor > hold.amountMinor) {
    throw badInput(`the capture must be more than zero and at most the held ${hold.amountMinor} minor units`, { field: 'amountMinor' });
  }
  const ids = holdIds(paymentId);
  checkTransfer(
    { transferId: ids.captureTransferId, paymentId, debitAccountId: source.id, creditAccountId: credit.id, amountMinor: request.amountMinor, currency: hold.currency },
    source,
    credit,
  );
  const debitAvailable = availableOf(sourceLatest) + hold.amountMinor - request.amountMinor;
  const debit = record(ids.closeEntryId, ids.captureTransferId, 'DEBIT', paymentId, source.id, request.amountMinor, hold.currency,
    withAvailable(sourceLatest.sequence + 1, sourceLatest.balanceAfterMinor - request.amountMinor, debitAvailable), -hold.amountMinor, now);
  return [debit, planCaptureCredit(paymentId, debit, credit, creditLatest, now)];
}

/** The payee's CREDIT of a capture whose DEBIT is `debit` (also how a half-posted capture is finished). */
export function planCaptureCredit(paymentId: string, debit: LedgerRecordDoc, credit: LedgerAccount, latest: LedgerPosition | null, now: Date): LedgerRecordDoc {
  const balance = latest?.balanceAfterMinor ?? 0n;
  const balanceAfterMinor = balance + debit.amountMinor;
  if (balanceAfterMinor > INT64_MAX) throw badInput(`the capture would overflow the balance of account ${credit.id}`, { field: 'amountMinor' });
  return record(holdIds(paymentId).captureCreditId, debit.transferId, 'CREDIT', paymentId, credit.id, debit.amountMinor, debit.currency,
    withAvailable((latest?.sequence ?? 0) + 1, balanceAfterMinor, availableOf(latest) + debit.amountMinor), undefined, now);
}

/** A capture already posted answers the same request again; another amount or payee is refused. */
export function checkSameCapture(request: CaptureRequest, debit: LedgerRecordDoc, credit: LedgerRecordDoc | undefined): void {
  if (debit.amountMinor !== request.amountMinor || (credit && credit.accountId !== request.creditAccountId)) {
    throw invalidState(`the hold of payment ${request.paymentId} was already captured with another amount or payee`, request.paymentId);
  }
}

function record(
  _id: string,
  transferId: string,
  direction: LedgerRecordDoc['direction'],
  paymentId: string,
  accountId: string,
  amountMinor: bigint,
  currency: string,
  position: LedgerPosition,
  heldDeltaMinor: bigint | undefined,
  now: Date,
): LedgerRecordDoc {
  return {
    _id,
    accountId,
    direction,
    amountMinor,
    currency,
    balanceAfterMinor: position.balanceAfterMinor,
    // Written on every hold record, even when equal: a later money entry reads it as the account's available balance.
    availableAfterMinor: position.availableAfterMinor ?? position.balanceAfterMinor,
    ...(heldDeltaMinor !== undefined ? { heldDeltaMinor } : {}),
    sequence: position.sequence,
    transferId,
    paymentId,
    createdAt: now,
  };
}
