import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, PaygraphError, notFound } from '../../runtime/errors';
import { isDuplicateKeyError } from '../../runtime/mongo';
import { ledgerEntryId, systemAccountKey } from './ids';
import { KeyedMutex } from '../../runtime/keyed-mutex';
import { ledgerAppendConflicts } from './metrics';
import {
  checkPostedLegsMatch,
  checkTransfer,
  missingLegs,
  nextPosition,
  systemAccountIdFor,
  type LedgerAccount,
  type LedgerDirection,
  type LedgerPosition,
  type SystemAccountPurpose,
  type TransferRequest,
} from './ledger';
import type { AccountDoc, AccountsRepository, LedgerEntryDoc } from './repository';

export interface PostedTransfer {
  transferId: string;
  debitEntryId: string;
  creditEntryId: string;
}

export interface LedgerServiceOptions {
  /** Attempts at appending one entry when other writers keep taking the next sequence. */
  maxAttempts?: number;
  /** Serialise this process's writers per account (default true); the unique index guards across processes regardless. */
  serialiseLocally?: boolean;
}

function asLedgerAccount(account: AccountDoc): LedgerAccount {
  return { id: account._id, currency: account.currency, status: account.status, systemPurpose: account.systemPurpose };
}

/**
 * Posts transfers to the append-only ledger. A leg is appended by reading the account's
 * newest entry and inserting the next sequence; losing the race is a duplicate key on
 * (accountId, sequence), and we re-read and try again. A leg already posted under the
 * transferId is a duplicate on (transferId, direction) and is returned as it is.
 */
export class LedgerService {
  private readonly maxAttempts: number;
  private readonly mutex: KeyedMutex | null;
  private readonly systemAccountIds = new Map<string, string>();
  /**
   * Each account's newest position as this process last wrote or read it. Valid only while
   * this process serialises its writers per account; another process's append shows up as a
   * duplicate key, which drops the entry and re-reads.
   */
  private readonly positions = new Map<string, LedgerPosition | null>();

  constructor(
    private readonly repository: AccountsRepository,
    options: LedgerServiceOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 30;
    this.mutex = options.serialiseLocally === false ? null : new KeyedMutex();
  }

  /** The bank's own account for a purpose and currency, created on first use. */
  async systemAccountId(purpose: SystemAccountPurpose, currency: string): Promise<string> {
    const cacheKey = systemAccountKey(purpose, currency);
    const cached = this.systemAccountIds.get(cacheKey);
    if (cached) return cached;
    const existing = await this.repository.findSystemAccount(purpose, currency);
    let accountId = existing?.accountId;
    if (!accountId) {
      // Deterministic id: processes racing to create it converge on the same account.
      accountId = systemAccountIdFor(purpose, currency);
      const now = new Date();
      await ignoreDuplicate(
        this.repository.insertAccount({ _id: accountId, customerId: null, currency, status: 'ACTIVE', systemPurpose: purpose, createdAt: now }),
      );
      await ignoreDuplicate(this.repository.insertSystemAccount({ _id: cacheKey, purpose, currency, accountId, createdAt: now }));
      accountId = (await this.repository.findSystemAccount(purpose, currency))?.accountId ?? accountId;
    }
    this.systemAccountIds.set(cacheKey, accountId);
    return accountId;
  }

  /**
   * Posts `request` once: the debit leg first, then the credit. Posting the same transferId
   * again posts nothing new, and completes a transfer whose credit leg is missing.
   */
  async postTransfer(request: TransferRequest): Promise<PostedTransfer> {
    const posted = await this.repository.findTransferLegs(request.transferId);
    checkPostedLegsMatch(request, posted);
    const legs = new Map<LedgerDirection, LedgerEntryDoc>(posted.map((leg) => [leg.direction, leg]));
    const missing = missingLegs(posted);
    if (missing.length > 0) {
      const accounts = await this.repository.findAccountsByIds([request.debitAccountId, request.creditAccountId]);
      const byId = new Map(accounts.map((account) => [account._id, account]));
      const debit = byId.get(request.debitAccountId);
      const credit = byId.get(request.creditAccountId);
      if (!debit) throw notFound('account', request.debitAccountId);
      if (!credit) throw notFound('account', request.creditAccountId);
      // A half-posted transfer is finished whatever happened since: the money has already left.
      if (posted.length === 0) checkTransfer(request, asLedgerAccount(debit), asLedgerAccount(credit));
      for (const direction of missing) {
        const account = direction === 'DEBIT' ? debit : credit;
        legs.set(direction, await this.appendLeg(asLedgerAccount(account), request, direction));
      }
    }
    return { transferId: request.transferId, debitEntryId: legs.get('DEBIT')!._id, creditEntryId: legs.get('CREDIT')!._id };
  }

  private async currentPosition(accountId: string): Promise<{ latest: LedgerPosition | null; remembered: boolean }> {
    if (this.mutex && this.positions.has(accountId)) return { latest: this.positions.get(accountId)!, remembered: true };
    const latest = await this.repository.latestPosition(accountId);
    if (this.mutex) this.positions.set(accountId, latest);
    return { latest, remembered: false };
  }

  private appendLeg(account: LedgerAccount, request: TransferRequest, direction: LedgerDirection): Promise<LedgerEntryDoc> {
    const append = () => this.appendLegUnlocked(account, request, direction);
    return this.mutex ? this.mutex.run(account.id, append) : append();
  }

  private async appendLegUnlocked(account: LedgerAccount, request: TransferRequest, direction: LedgerDirection): Promise<LedgerEntryDoc> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const { latest, remembered } = await this.currentPosition(account.id);
      let position;
      try {
        position = nextPosition(account, latest, direction, request.amountMinor);
      } catch (error) {
        // A remembered balance may be behind another process's credit: decide on a fresh read.
        if (remembered) {
          this.positions.delete(account.id);
          continue;
        }
        // A concurrent post of this same transfer may be what took the funds.
        const already = await this.repository.findLeg(request.transferId, direction);
        if (already) return already;
        throw error;
      }
      const entry: LedgerEntryDoc = {
        _id: ledgerEntryId(request.transferId, direction),
        accountId: account.id,
        direction,
        amountMinor: request.amountMinor,
        currency: request.currency,
        balanceAfterMinor: position.balanceAfterMinor,
        sequence: position.sequence,
        transferId: request.transferId,
        paymentId: request.paymentId,
        createdAt: new Date(),
      };
      try {
        await this.repository.insertEntry(entry);
        if (this.mutex) this.positions.set(account.id, position);
        return entry;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        this.positions.delete(account.id);
        const already = await this.repository.findLeg(request.transferId, direction);
        if (already) return already;
        // Another writer took this sequence: back off a little, at random, and re-read.
        ledgerAppendConflicts.inc();
        await sleep(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
    throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `account ${account.id} is too busy to post to; try again`, {
      accountId: account.id,
    });
  }
}

async function ignoreDuplicate(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}
