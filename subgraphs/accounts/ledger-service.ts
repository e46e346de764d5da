import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import { ErrorCode, PaygraphError } from '../../runtime/errors';
import { isDuplicateKeyError } from '../../runtime/mongo';
import { ledgerEntryId, systemAccountKey } from './ids';
import { ledgerAppendConflicts, ledgerBatchTransfers } from './metrics';
import { missingLegs, systemAccountIdFor, type LedgerAccount, type LedgerPosition, type SystemAccountPurpose, type TransferRequest } from './ledger';
import type { AccountDoc, AccountsRepository, LedgerEntryDoc } from './repository';
import { judgePostedLegs, planBatch, positionsWritten, type KnownPosition, type TransferPlan } from './transfer-batch';

export interface PostedTransfer {
  transferId: string;
  debitEntryId: string;
  creditEntryId: string;
}

export interface LedgerServiceOptions {
  /** Batches one transfer may be tried in (other writers taking its sequences, refusals re-read) before it is refused as busy. Default 30. */
  maxAttempts?: number;
  /** Transfers per batch: two entries each, and the embedded store commits up to 100 documents of an insert as one transaction. Default 50. */
  maxBatchTransfers?: number;
  /** Transfers waiting for a batch before more are refused as busy (the admission bound). Default 10,000. */
  maxWaiting?: number;
  /** Accounts whose newest position this process remembers. Default 100,000. */
  positionCacheSize?: number;
}

function asLedgerAccount(account: AccountDoc): LedgerAccount {
  return { id: account._id, currency: account.currency, status: account.status, systemPurpose: account.systemPurpose };
}

function postedTransfer(transferId: string): PostedTransfer {
  return { transferId, debitEntryId: ledgerEntryId(transferId, 'DEBIT'), creditEntryId: ledgerEntryId(transferId, 'CREDIT') };
}

/** What the same request always is: a caller posting it while it is already being posted waits for that post. */
function requestKey(request: TransferRequest): string {
  return JSON.stringify([request.transferId, request.paymentId, request.debitAccountId, request.creditAccountId, String(request.amountMinor), request.currency]);
}

/** A transfer waiting for a batch, and what is known about it so far. */
interface Waiting {
  request: TransferRequest;
  /** Its legs as last read, when some were posted. */
  postedLegs?: LedgerEntryDoc[];
  /** Accounts to read again before it is decided: a refusal on a remembered position is re-read first. */
  recheck: Set<string>;
  attempts: number;
  /** Batches in which another writer took one of its sequences. */
  conflicts: number;
  resolve(posted: PostedTransfer): void;
  reject(error: unknown): void;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/**
 * Posts transfers to the append-only ledger, with group commit: the transfers that arrive
 * while a batch is being written are the next batch. A batch costs one read of its accounts
 * (status is always read fresh), a read of the positions this process does not remember (none
 * when it remembers them all), and one ordered insert of every entry, each transfer's debit
 * before its credit, each account's entries continuing its gap-free sequence. Legs are not
 * looked for first: the insert finds them. The unique (accountId, sequence) index is the guard
 * across processes: a sequence another writer took stops the insert there, the entries before
 * it stand, that account is re-read from that sequence and the rest goes into the next batch.
 * A leg already posted under the transferId (its `_id`) stops it too, and is judged as read.
 */
export class LedgerService {
  private readonly maxAttempts: number;
  private readonly maxBatchTransfers: number;
  private readonly maxWaiting: number;
  private readonly systemAccountIds = new Map<string, string>();
  /**
   * Each account's newest position as this process last wrote or read it. Only this process's
   * writer changes it (one batch at a time); another process's append shows up as a duplicate
   * key, which drops the account and re-reads it.
   */
  private readonly positions: LRUCache<string, LedgerPosition>;
  /** Accounts whose remembered position proved behind, with a sequence known to be taken: read from there. */
  private readonly floors: LRUCache<string, number>;
  private readonly waiting: Waiting[] = [];
  /** Transfers being posted by this process, by id, for callers posting the same request again meanwhile. */
  private readonly posting = new Map<string, { key: string; posted: Promise<PostedTransfer> }>();
  private writing = false;

  constructor(
    private readonly repository: AccountsRepository,
    options: LedgerServiceOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 30;
    this.maxBatchTransfers = options.maxBatchTransfers ?? 50;
    this.maxWaiting = options.maxWaiting ?? 10_000;
    this.positions = new LRUCache({ max: options.positionCacheSize ?? 100_000 });
    this.floors = new LRUCache({ max: 10_000 });
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
   * again posts nothing new, and completes a transfer whose credit leg is missing. Answers
   * once the insert holding its entries is acknowledged.
   */
  postTransfer(request: TransferRequest): Promise<PostedTransfer> {
    const key = requestKey(request);
    const same = this.posting.get(request.transferId);
    if (same?.key === key) return same.posted;
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, 'the ledger has too many transfers waiting; try again'));
    }
    const posted = new Promise<PostedTransfer>((resolve, reject) => {
      this.waiting.push({ request, recheck: new Set(), attempts: 0, conflicts: 0, resolve, reject });
    });
    if (!same) {
      this.posting.set(request.transferId, { key, posted });
      const forget = () => {
        if (this.posting.get(request.transferId)?.posted === posted) this.posting.delete(request.transferId);
      };
      posted.then(forget, forget);
    }
    this.startWriting();
    return posted;
  }

  private startWriting(): void {
    if (this.writing || this.waiting.length === 0) return;
    this.writing = true;
    // After the I/O callbacks of this turn: requests that arrived together are one batch.
    setImmediate(() => void this.write());
  }

  private async write(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxBatchTransfers);
        // Writers of other processes racing for the same sequences: let one of them get ahead.
        const conflicts = Math.max(...batch.map((waiting) => waiting.conflicts));
        if (conflicts >= 2) await sleep(Math.random() * Math.min(50, 2 ** conflicts));
        let again: Waiting[];
        try {
          again = await this.writeBatch(batch);
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
          continue;
        }
        const retried: Waiting[] = [];
        for (const waiting of again) {
          if (++waiting.attempts < this.maxAttempts) retried.push(waiting);
          else {
            waiting.reject(
              new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `transfer ${waiting.request.transferId} could not be posted: its accounts are too busy; try again`, {
                transferId: waiting.request.transferId,
              }),
            );
          }
        }
        this.waiting.unshift(...retried);
      }
    } finally {
      this.writing = false;
      this.startWriting();
    }
  }

  /** Writes one batch; returns the transfers to try again in the next one, in order. */
  private async writeBatch(batch: Waiting[]): Promise<Waiting[]> {
    const accountIds = [...new Set(batch.flatMap((waiting) => [waiting.request.debitAccountId, waiting.request.creditAccountId]))];
    const needed = [...new Set(batch.flatMap(accountsToPost))];
    const recheck = new Set(batch.flatMap((waiting) => [...waiting.recheck]));
    for (const waiting of batch) waiting.recheck.clear();
    const [accounts, fresh] = await Promise.all([
      this.repository.findAccountsByIds(accountIds),
      this.readPositions(needed.filter((id) => recheck.has(id) || !this.positions.has(id))),
    ]);
    const known = new Map<string, KnownPosition>();
    for (const id of needed) {
      const read = fresh.get(id);
      const remembered = read ?? this.positions.get(id);
      if (remembered) known.set(id, { position: remembered, fresh: read !== undefined });
    }
    const plan = planBatch(
      batch.map(({ request, postedLegs }) => ({ request, postedLegs })),
      new Map(accounts.map((account) => [account._id, asLedgerAccount(account)])),
      known,
      new Date(),
    );

    // A refusal stands only if the transfer's legs, read after the positions it was refused on, show nothing posted.
    const refused = batch.filter((_, index) => plan.plans[index].kind === 'refused');
    const [appended, refusedLegs] = await Promise.all([
      settle(plan.entries.length > 0 ? this.repository.appendEntries(plan.entries) : Promise.resolve(0)),
      settle(refused.length > 0 ? this.repository.findLegsOf(refused.map((waiting) => waiting.request.transferId)) : Promise.resolve(new Map<string, LedgerEntryDoc[]>())),
    ]);
    if (plan.entries.length > 0) ledgerBatchTransfers.observe(plan.plans.filter((p) => p.kind === 'append').length);
    const written = appended.ok ? appended.value : 0;
    if (appended.ok) {
      for (const [accountId, position] of positionsWritten(plan.entries, written)) {
        this.positions.set(accountId, position);
        this.floors.delete(accountId);
      }
    } else {
      // Nothing is known of what was written: every account of the batch is read again.
      for (const entry of plan.entries) this.positions.delete(entry.accountId);
    }

    const again = new Set<Waiting>();
    const stopped = appended.ok && written < plan.entries.length ? plan.owners[written] : -1;
    for (const [index, waiting] of batch.entries()) {
      const outcome: TransferPlan = plan.plans[index];
      switch (outcome.kind) {
        case 'posted':
          waiting.resolve(postedTransfer(waiting.request.transferId));
          break;
        case 'failed':
          waiting.reject(outcome.error);
          break;
        case 'later':
          again.add(waiting);
          break;
        case 'recheck':
          waiting.recheck.add(outcome.accountId);
          again.add(waiting);
          break;
        case 'refused':
          if (!refusedLegs.ok) waiting.reject(refusedLegs.error);
          else this.judge(waiting, refusedLegs.value.get(waiting.request.transferId) ?? [], outcome.error, again);
          break;
        case 'append':
          if (!appended.ok) waiting.reject(appended.error);
          else if (outcome.first + outcome.count <= written) waiting.resolve(postedTransfer(waiting.request.transferId));
          else if (index !== stopped) again.add(waiting);
          break;
      }
    }
    if (stopped >= 0) await this.investigate(batch[stopped], plan.entries[written], again);
    return batch.filter((waiting) => again.has(waiting));
  }

  /**
   * The insert stopped at `entry` on a duplicate key: either a leg of this transfer is already
   * posted (a re-post, or another process posting it too), or another writer took the sequence.
   */
  private async investigate(waiting: Waiting, entry: LedgerEntryDoc, again: Set<Waiting>): Promise<void> {
    let legs: LedgerEntryDoc[];
    try {
      legs = await this.repository.findTransferLegs(waiting.request.transferId);
    } catch (error) {
      this.positions.delete(entry.accountId);
      waiting.reject(error);
      return;
    }
    const existing = legs.find((leg) => leg._id === entry._id);
    // Another writer got to this account first (with this leg, if it is posted at or past the
    // sequence we tried): read the account again from the sequence it took.
    if (!existing || existing.sequence >= entry.sequence) {
      this.positions.delete(entry.accountId);
      this.floors.set(entry.accountId, existing ? existing.sequence : entry.sequence);
      if (!existing) {
        ledgerAppendConflicts.inc();
        waiting.conflicts++;
      }
    }
    this.judge(waiting, legs, undefined, again);
  }

  /** Decides a transfer on its legs as just read, `refusal` standing when none is posted. */
  private judge(waiting: Waiting, legs: LedgerEntryDoc[], refusal: PaygraphError | undefined, again: Set<Waiting>): void {
    let state;
    try {
      state = judgePostedLegs(waiting.request, legs);
    } catch (error) {
      waiting.reject(error);
      return;
    }
    // A refusal stands when nothing is posted, or when only the rest of a half-posted transfer was being posted.
    const completing = waiting.postedLegs !== undefined;
    if (state === 'posted') waiting.resolve(postedTransfer(waiting.request.transferId));
    else if (refusal && (state === 'none' || completing)) waiting.reject(refusal);
    else {
      waiting.postedLegs = state === 'half-posted' ? legs : undefined;
      again.add(waiting);
    }
  }

  /**
   * The newest positions of `accountIds`, read now, in commands sent together: from a known
   * sequence on for each account there is one for (a short range read), and for all the others
   * together from the start.
   */
  private async readPositions(accountIds: readonly string[]): Promise<Map<string, LedgerPosition>> {
    if (accountIds.length === 0) return new Map();
    const floors = new Map<string, number>();
    const unknown: string[] = [];
    for (const id of accountIds) {
      const floor = this.floors.get(id) ?? this.positions.get(id)?.sequence ?? 0;
      if (floor > 0) floors.set(id, floor);
      else unknown.push(id);
    }
    const [fromFloors, counted] = await Promise.all([
      Promise.all([...floors].map(async ([id, floor]) => [id, await this.repository.ledgerPositionFrom(id, floor)] as const)),
      unknown.length > 0 ? this.repository.ledgerPositions(unknown) : new Map<string, LedgerPosition>(),
    ]);
    const positions = new Map(counted);
    const missed: string[] = [];
    for (const [id, position] of fromFloors) {
      if (position) positions.set(id, position);
      else missed.push(id);
    }
    if (missed.length > 0) for (const [id, position] of await this.repository.ledgerPositions(missed)) positions.set(id, position);
    for (const [id, position] of positions) {
      this.positions.set(id, position);
      this.floors.delete(id);
    }
    return positions;
  }
}

/** The accounts a transfer still has legs to post to. */
function accountsToPost(waiting: Waiting): string[] {
  return missingLegs(waiting.postedLegs ?? []).map((direction) => (direction === 'DEBIT' ? waiting.request.debitAccountId : waiting.request.creditAccountId));
}

async function ignoreDuplicate(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}
