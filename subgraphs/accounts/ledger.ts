import { createHash } from 'node:crypto';
import { ErrorCode, PaygraphError, badInput, forbidden } from '../../runtime/errors';
import { INT64_MAX, INT64_MIN, formatMinor } from '../../runtime/money';

/**
 * The ledger's rules as pure functions. Money moves only by appending entries: each
 * account's entries carry a gap-free `sequence` from 1 and the running `balanceAfterMinor`;
 * a transfer is one DEBIT and one CREDIT entry of the same amount and currency.
 */
export type LedgerDirection = 'DEBIT' | 'CREDIT';
export type AccountStatus = 'ACTIVE' | 'FROZEN' | 'CLOSED';
export const SYSTEM_ACCOUNT_PURPOSES = ['FUNDING', 'EXTERNAL_SETTLEMENT', 'FX_POSITION'] as const;
export type SystemAccountPurpose = (typeof SYSTEM_ACCOUNT_PURPOSES)[number];

/** What the rules need to know about an account. */
export interface LedgerAccount {
  id: string;
  currency: string;
  status: AccountStatus;
  /** Set for the bank's own accounts, which may go negative: they are the other side of customer money. */
  systemPurpose: SystemAccountPurpose | null;
}

export interface TransferRequest {
  transferId: string;
  paymentId: string | null;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: bigint;
  currency: string;
}

export interface LedgerPosition {
  sequence: number;
  balanceAfterMinor: bigint;
  /** The posted balance minus open holds (holds.ts), when it differs: absent means equal to `balanceAfterMinor`. */
  availableAfterMinor?: bigint;
}

/** What spending is checked against: posted money not held for an authorised payment. */
export function availableOf(position: LedgerPosition | null): bigint {
  return position?.availableAfterMinor ?? position?.balanceAfterMinor ?? 0n;
}

/** The position an entry (or a read of one) leaves its account at. */
export function positionOf(entry: { sequence: number; balanceAfterMinor: bigint; availableAfterMinor?: bigint | null }): LedgerPosition {
  return withAvailable(entry.sequence, entry.balanceAfterMinor, entry.availableAfterMinor ?? entry.balanceAfterMinor);
}

/** A position with `availableAfterMinor` kept only when it differs from the posted balance (entries stay as they were without holds). */
export function withAvailable(sequence: number, balanceAfterMinor: bigint, availableAfterMinor: bigint): LedgerPosition {
  return availableAfterMinor === balanceAfterMinor ? { sequence, balanceAfterMinor } : { sequence, balanceAfterMinor, availableAfterMinor };
}

/** One leg of a transfer as it is stored. */
export interface PostedLeg {
  accountId: string;
  direction: LedgerDirection;
  amountMinor: bigint;
  currency: string;
}

export function insufficientFunds(accountId: string, balanceMinor: bigint, amountMinor: bigint, currency: string): PaygraphError {
  return new PaygraphError(
    ErrorCode.INSUFFICIENT_FUNDS,
    `account ${accountId} has ${formatMinor(balanceMinor, currency)} ${currency}; the transfer needs ${formatMinor(amountMinor, currency)}`,
    { accountId },
  );
}

export function mayOverdraw(account: LedgerAccount): boolean {
  return account.systemPurpose !== null;
}

/** The sequence and balance of the entry that follows `latest` (null: the account has none). */
export function nextPosition(
  account: LedgerAccount,
  latest: LedgerPosition | null,
  direction: LedgerDirection,
  amountMinor: bigint,
): LedgerPosition {
  const balance = latest?.balanceAfterMinor ?? 0n;
  const balanceAfterMinor = direction === 'CREDIT' ? balance + amountMinor : balance - amountMinor;
  if (balanceAfterMinor > INT64_MAX || balanceAfterMinor < INT64_MIN) {
    throw badInput(`the transfer would overflow the balance of account ${account.id}`, { field: 'amountMinor' });
  }
  // Held money is not spendable: the overdraft check works on the available balance.
  const available = availableOf(latest);
  const availableAfterMinor = direction === 'CREDIT' ? available + amountMinor : available - amountMinor;
  if (availableAfterMinor < 0n && !mayOverdraw(account)) throw insufficientFunds(account.id, available, amountMinor, account.currency);
  return withAvailable((latest?.sequence ?? 0) + 1, balanceAfterMinor, availableAfterMinor);
}

/** Checks a new transfer against its two accounts before anything is posted. */
export function checkTransfer(request: TransferRequest, debit: LedgerAccount, credit: LedgerAccount): void {
  if (request.amountMinor <= 0n) throw badInput('amountMinor must be greater than zero', { field: 'amountMinor' });
  if (request.amountMinor > INT64_MAX) throw badInput('amountMinor is outside the supported range', { field: 'amountMinor' });
  if (debit.id === credit.id) throw badInput('a transfer needs two different accounts', { field: 'creditAccountId' });
  for (const [account, field] of [
    [debit, 'debitAccountId'],
    [credit, 'creditAccountId'],
  ] as const) {
    if (account.currency !== request.currency) {
      throw badInput(`currency mismatch: account ${account.id} holds ${account.currency}, the transfer is in ${request.currency}`, {
        field,
      });
    }
    if (account.status !== 'ACTIVE') throw forbidden(`account ${account.id} is ${account.status.toLowerCase()} and cannot take part in transfers`);
  }
}

/**
 * A transferId names one transfer forever: legs already posted under it must be the legs
 * this request would post, else the id is being reused for something else.
 */
export function checkPostedLegsMatch(request: TransferRequest, posted: readonly PostedLeg[]): void {
  for (const leg of posted) {
    const accountId = leg.direction === 'DEBIT' ? request.debitAccountId : request.creditAccountId;
    if (leg.accountId !== accountId || leg.amountMinor !== request.amountMinor || leg.currency !== request.currency) {
      throw new PaygraphError(ErrorCode.IDEMPOTENCY_KEY_REUSED, `transfer ${request.transferId} was already posted with different accounts or amount`, {
        transferId: request.transferId,
      });
    }
  }
}

/** Which legs still have to be posted, debit first: a crash between them leaves only the credit to do. */
export function missingLegs(posted: readonly PostedLeg[]): LedgerDirection[] {
  const has = new Set(posted.map((leg) => leg.direction));
  return (['DEBIT', 'CREDIT'] as const).filter((direction) => !has.has(direction));
}

/** A stable digest of a request, stored with its idempotency key to recognise a different request under the same key. */
export function requestFingerprint(fields: Record<string, string | bigint | null>): string {
  const canonical = Object.keys(fields)
    .sort()
    .map((key) => `${key}=${fields[key] === null ? '' : String(fields[key])}`)
    .join('\n');
  return createHash('sha256').update(canonical).digest('hex');
}

export const IDEMPOTENCY_KEY_MAX_LENGTH = 200;

export function validateIdempotencyKey(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > IDEMPOTENCY_KEY_MAX_LENGTH || !/^[\x21-\x7e]+$/.test(value)) {
    throw badInput(`idempotencyKey must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters without spaces`, {
      field: 'idempotencyKey',
    });
  }
  return value;
}

const TRANSFER_ID = /^[A-Za-z0-9_:.-]{1,128}$/;

export function validateTransferId(value: unknown, field = 'transferId'): string {
  if (typeof value !== 'string' || !TRANSFER_ID.test(value)) {
    throw badInput(`${field} must be 1 to 128 letters, digits or _:.-`, { field });
  }
  return value;
}

/** The readable id of the bank's own account for a purpose and currency, the same in every process. */
export function systemAccountIdFor(purpose: SystemAccountPurpose, currency: string): string {
  return `acc_sys_${purpose.toLowerCase()}_${currency.toLowerCase()}`;
}

/** Relay paging of an account's ledger, newest first: the cursor is the entry's sequence. */
export function parseLedgerCursor(after: unknown): number | null {
  if (after === undefined || after === null) return null;
  if (typeof after !== 'string' || !/^[1-9][0-9]{0,15}$/.test(after) || !Number.isSafeInteger(Number(after))) {
    throw badInput('after is not a ledger cursor', { field: 'after' });
  }
  return Number(after);
}

export function ledgerCursor(sequence: number): string {
  return String(sequence);
}
