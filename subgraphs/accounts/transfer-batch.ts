import { notFound, type PaygraphError } from '../../runtime/errors';
import { ledgerEntryId } from './ids';
import {
  checkPostedLegsMatch,
  checkTransfer,
  missingLegs,
  nextPosition,
  positionOf,
  type LedgerAccount,
  type LedgerPosition,
  type PostedLeg,
  type TransferRequest,
} from './ledger';
import type { LedgerEntryDoc } from './repository';

/**
 * How a batch of transfers becomes one ordered list of ledger entries (group commit), as pure
 * functions: the writer (ledger-service.ts) reads, calls `planBatch`, inserts the entries in
 * this order, and settles each transfer from how many were written (`settleAppend`).
 */

/** A transfer waiting to be posted, with what is known of its legs. */
export interface PlannedTransfer {
  request: TransferRequest;
  /** Its legs as last read, when they were: some posted means the rest is finished without checks. Undefined: none known, post both. */
  postedLegs?: readonly PostedLeg[];
}

/** An account's newest position as the writer knows it. */
export interface KnownPosition {
  position: LedgerPosition;
  /** Read from the database for this batch; otherwise remembered, and maybe behind another process's appends. */
  fresh: boolean;
}

export type TransferPlan =
  /** Every leg is already posted: nothing to write. */
  | { kind: 'posted' }
  /** Its entries are `entries[first .. first + count)` of the batch. */
  | { kind: 'append'; first: number; count: number }
  /** Refused on what was read for this batch: final once its legs, read after, show none posted. */
  | { kind: 'refused'; error: PaygraphError }
  /** Refused on a position that may be stale (remembered, or moved by an earlier transfer of this batch): read `accountId` again and retry. */
  | { kind: 'recheck'; accountId: string }
  /** Final: a different transfer was already posted under this id. */
  | { kind: 'failed'; error: PaygraphError }
  /** Not this batch: its id is already being posted in it, or a position it needs is unknown. */
  | { kind: 'later' };

export interface BatchPlan {
  plans: TransferPlan[];
  /** Every new entry, each transfer's debit before its credit, in transfer order. */
  entries: LedgerEntryDoc[];
  /** The index in `plans` of the transfer each entry belongs to. */
  owners: number[];
}

/**
 * Sequences a batch. Each account's entries continue from its known position and from each
 * other, so the batch holds at most one gap-free run per account; a transfer refused or left
 * for later writes nothing and moves no position.
 */
export function planBatch(
  transfers: readonly PlannedTransfer[],
  accounts: ReadonlyMap<string, LedgerAccount>,
  positions: ReadonlyMap<string, KnownPosition>,
  now: Date,
): BatchPlan {
  const projected = new Map<string, LedgerPosition>();
  const moved = new Set<string>();
  const transferIds = new Set<string>();
  const entries: LedgerEntryDoc[] = [];
  const owners: number[] = [];
  const plans = transfers.map((transfer, index): TransferPlan => {
    const { request, postedLegs } = transfer;
    if (transferIds.has(request.transferId)) return { kind: 'later' };
    transferIds.add(request.transferId);
    if (postedLegs) {
      try {
        checkPostedLegsMatch(request, postedLegs);
      } catch (error) {
        return { kind: 'failed', error: error as PaygraphError };
      }
    }
    const directions = missingLegs(postedLegs ?? []);
    if (directions.length === 0) return { kind: 'posted' };

    const debit = accounts.get(request.debitAccountId);
    const credit = accounts.get(request.creditAccountId);
    const legs: { account: LedgerAccount; direction: (typeof directions)[number]; position: LedgerPosition }[] = [];
    try {
      if (directions.length === 2) {
        if (!debit) throw notFound('account', request.debitAccountId);
        if (!credit) throw notFound('account', request.creditAccountId);
        checkTransfer(request, debit, credit);
      } else if (!credit) {
        throw notFound('account', request.creditAccountId);
      }
      // A half-posted transfer is finished whatever happened since: the money has already left.
      for (const direction of directions) {
        const account = direction === 'DEBIT' ? debit! : credit!;
        const latest = projected.get(account.id) ?? positions.get(account.id)?.position;
        if (!latest) return { kind: 'later' };
        try {
          legs.push({ account, direction, position: nextPosition(account, latest, direction, request.amountMinor) });
        } catch (error) {
          if (moved.has(account.id) || !positions.get(account.id)!.fresh) return { kind: 'recheck', accountId: account.id };
          throw error;
        }
      }
    } catch (error) {
      return { kind: 'refused', error: error as PaygraphError };
    }

    const first = entries.length;
    for (const { account, direction, position } of legs) {
      projected.set(account.id, position);
      moved.add(account.id);
      owners.push(index);
      entries.push({
        _id: ledgerEntryId(request.transferId, direction),
        accountId: account.id,
        direction,
        amountMinor: request.amountMinor,
        currency: request.currency,
        balanceAfterMinor: position.balanceAfterMinor,
        ...(position.availableAfterMinor !== undefined ? { availableAfterMinor: position.availableAfterMinor } : {}),
        sequence: position.sequence,
        transferId: request.transferId,
        paymentId: request.paymentId,
        createdAt: now,
      });
    }
    return { kind: 'append', first, count: legs.length };
  });
  return { plans, entries, owners };
}

/** Each account's newest position among the first `written` entries of a batch. */
export function positionsWritten(entries: readonly LedgerEntryDoc[], written: number): Map<string, LedgerPosition> {
  const positions = new Map<string, LedgerPosition>();
  for (const entry of entries.slice(0, written)) positions.set(entry.accountId, positionOf(entry));
  return positions;
}

/**
 * What the legs of a transfer read after a refusal or a duplicate key mean: posted (return
 * it), half posted (finish it), another transfer's (IDEMPOTENCY_KEY_REUSED, which wins over
 * any refusal), or none (the refusal, when there is one, stands).
 */
export function judgePostedLegs(request: TransferRequest, legs: readonly PostedLeg[]): 'posted' | 'half-posted' | 'none' {
  checkPostedLegsMatch(request, legs);
  if (legs.length === 0) return 'none';
  return missingLegs(legs).length === 0 ? 'posted' : 'half-posted';
}
