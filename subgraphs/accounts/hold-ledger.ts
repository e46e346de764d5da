import { ErrorCode, isPaygraphError, PaygraphError, notFound } from '../../runtime/errors';
import { KeyedMutex } from '../../runtime/keyed-mutex';
import {
  checkSameCapture, checkSameHold, holdIds, holdState, planCapture, planCaptureCredit, planHold, planRelease, requireOpenHold,
  type CaptureRequest, type HoldState, type PlaceHoldRequest,
} from './holds';
import type { LedgerAccount, LedgerPosition } from './ledger';
import { ledgerAppendConflicts } from './metrics';
import type { AccountDoc, AccountsRepository, LedgerRecordDoc } from './repository';

/** A hold as the payments saga sees it. */
export interface HoldOutcome {
  paymentId: string;
  state: 'HELD' | 'CAPTURED' | 'RELEASED';
  amountMinor: bigint;
  capturedMinor: bigint | null;
}

function asLedgerAccount(account: AccountDoc): LedgerAccount {
  return { id: account._id, currency: account.currency, status: account.status, systemPurpose: account.systemPurpose };
}

function outcomeOf(paymentId: string, state: HoldState): HoldOutcome {
  switch (state.kind) {
    case 'none':
      throw notFound('hold', paymentId);
    case 'held':
      return { paymentId, state: 'HELD', amountMinor: state.hold.amountMinor, capturedMinor: null };
    case 'released':
      return { paymentId, state: 'RELEASED', amountMinor: state.hold.amountMinor, capturedMinor: null };
    case 'captured':
      return { paymentId, state: 'CAPTURED', amountMinor: state.hold.amountMinor, capturedMinor: state.debit.amountMinor };
  }
}

/**
 * Writes holds, releases and captures (the rules are in holds.ts). Each operation reads the
 * hold's records and the positions it needs fresh, then appends its records in one ordered
 * insert; the unique (accountId, sequence) index is the guard against every other writer (the
 * transfer writer, another process): a sequence taken stops the insert, and the operation is
 * read and tried again. Every operation is idempotent by payment id: repeated, it finds its
 * records and answers as before. Holds are rare next to transfers, so they are not batched.
 */
export class HoldLedger {
  /** One operation per payment at a time in this process; across processes the unique indexes decide. */
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly repository: AccountsRepository,
    private readonly maxAttempts = 30,
  ) {}

  placeHold(request: PlaceHoldRequest): Promise<HoldOutcome> {
    return this.retrying(request.paymentId, async (state) => {
      if (state.kind !== 'none') {
        checkSameHold(request, state.hold);
        return { done: outcomeOf(request.paymentId, state) };
      }
      const [account] = await this.repository.findAccountsByIds([request.accountId]);
      if (!account) throw notFound('account', request.accountId);
      const latest = await this.repository.latestPosition(account._id);
      try {
        return { records: [planHold(request, asLedgerAccount(account), latest, new Date())] };
      } catch (error) {
        // The position may already hold this very hold, placed by another process after the
        // state was read: that is the hold's answer, not a shortfall.
        if (!isPaygraphError(error) || error.code !== ErrorCode.INSUFFICIENT_FUNDS) throw error;
        const now = await this.state(request.paymentId);
        if (now.kind === 'none') throw error;
        checkSameHold(request, now.hold);
        return { done: outcomeOf(request.paymentId, now) };
      }
    });
  }

  releaseHold(paymentId: string): Promise<HoldOutcome> {
    return this.retrying(paymentId, async (state) => {
      if (state.kind === 'released') return { done: outcomeOf(paymentId, state) };
      const hold = requireOpenHold(paymentId, state, 'released');
      const latest = await this.requirePosition(hold.accountId);
      return { records: [planRelease(paymentId, hold, latest, new Date())] };
    });
  }

  captureHold(request: CaptureRequest): Promise<HoldOutcome> {
    return this.retrying(request.paymentId, async (state) => {
      if (state.kind === 'captured') {
        checkSameCapture(request, state.debit, state.credit);
        if (state.credit) return { done: outcomeOf(request.paymentId, state) };
        // A crash left the payee's leg unposted: the money has left the payer, finish it.
        const [credit] = await this.repository.findAccountsByIds([request.creditAccountId]);
        if (!credit) throw notFound('account', request.creditAccountId);
        const latest = await this.repository.latestPosition(credit._id);
        return { records: [planCaptureCredit(request.paymentId, state.debit, asLedgerAccount(credit), latest, new Date())] };
      }
      const hold = requireOpenHold(request.paymentId, state, 'captured');
      const accounts = await this.repository.findAccountsByIds([hold.accountId, request.creditAccountId]);
      const source = accounts.find((a) => a._id === hold.accountId);
      const credit = accounts.find((a) => a._id === request.creditAccountId);
      if (!source) throw notFound('account', hold.accountId);
      if (!credit) throw notFound('account', request.creditAccountId);
      const [sourceLatest, creditLatest] = await Promise.all([this.requirePosition(source._id), this.repository.latestPosition(credit._id)]);
      return { records: planCapture(request, hold, asLedgerAccount(source), asLedgerAccount(credit), sourceLatest, creditLatest, new Date()) };
    });
  }

  /** The hold's records as they are now. */
  async state(paymentId: string): Promise<HoldState> {
    const ids = holdIds(paymentId);
    return holdState(paymentId, await this.repository.findRecords([ids.holdEntryId, ids.closeEntryId, ids.captureCreditId]));
  }

  /**
   * Reads the hold, lets `step` decide (done, or records to append), appends them, and reads
   * again until done: after its own append the next read finds the records and answers.
   */
  private retrying(paymentId: string, step: (state: HoldState) => Promise<{ done: HoldOutcome } | { records: LedgerRecordDoc[] }>): Promise<HoldOutcome> {
    return this.mutex.run(paymentId, async () => {
      for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
        const decision = await step(await this.state(paymentId));
        if ('done' in decision) return decision.done;
        const written = await this.repository.appendRecords(decision.records);
        if (written === decision.records.length) continue;
        // Another writer took a sequence (or posted this hold's record first): read again.
        ledgerAppendConflicts.inc();
      }
      throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `the hold of payment ${paymentId} could not be written: its accounts are too busy; try again`, { paymentId });
    });
  }

  private async requirePosition(accountId: string): Promise<LedgerPosition> {
    const latest = await this.repository.latestPosition(accountId);
    // A hold is a record of the account: it has a position once the hold is placed.
    if (!latest) throw new Error(`account ${accountId} has a hold but no ledger position`);
    return latest;
  }
}
