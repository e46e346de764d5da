import { ErrorCode, PaygraphError, badInput, forbidden, notFound } from '../../runtime/errors';
import type { Identity } from '../../runtime/identity';
import { parseDecimal } from '../../runtime/money';
import { isDuplicateKeyError } from '../../runtime/mongo';
import { requireAccountId, depositRequestId } from './ids';
import { requestFingerprint, validateIdempotencyKey } from './ledger';
import type { LedgerService } from './ledger-service';
import type { AccountDoc, AccountsRepository, DepositRequestDoc } from './repository';

export interface DepositInput {
  accountId: unknown;
  amount: { amount: unknown; currency: unknown };
  idempotencyKey: unknown;
}

/**
 * Deposits are transfers from the bank's FUNDING account into a customer account. The
 * caller's idempotency key is recorded with a fingerprint of the request before anything is
 * posted, and names the transfer: the same request again posts nothing new (and finishes a
 * deposit interrupted half-way), a different request under the same key is refused.
 */
export class Deposits {
  constructor(
    private readonly repository: AccountsRepository,
    private readonly ledger: LedgerService,
  ) {}

  async depositFunds(identity: Identity, input: DepositInput): Promise<AccountDoc> {
    if (identity.customerId !== undefined) throw forbidden('deposits are made by staff');
    const idempotencyKey = validateIdempotencyKey(input.idempotencyKey);
    const accountId = requireAccountId(input.accountId);
    const amount = parseDecimal(input.amount.amount as string, input.amount.currency as string);
    const [account] = await this.repository.findAccountsByIds([accountId]);
    if (!account || account.customerId === null) throw notFound('account', accountId);
    if (account.currency !== amount.currency) {
      throw badInput(`currency mismatch: account ${accountId} holds ${account.currency}, the deposit is in ${amount.currency}`, {
        field: 'amount.currency',
      });
    }

    const fingerprint = requestFingerprint({ accountId, amountMinor: amount.minor, currency: amount.currency });
    const request = await this.recordKey(identity.subject, idempotencyKey, fingerprint, accountId);
    const funding = await this.ledger.systemAccountId('FUNDING', amount.currency);
    await this.ledger.postTransfer({
      transferId: request.transferId,
      paymentId: null,
      debitAccountId: funding,
      creditAccountId: accountId,
      amountMinor: amount.minor,
      currency: amount.currency,
    });
    return account;
  }

  private async recordKey(subject: string, idempotencyKey: string, fingerprint: string, accountId: string): Promise<DepositRequestDoc> {
    const id = depositRequestId(subject, idempotencyKey);
    const request: DepositRequestDoc = { _id: id, subject, idempotencyKey, fingerprint, accountId, transferId: id, createdAt: new Date() };
    try {
      await this.repository.insertDepositRequest(request);
      return request;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    const existing = await this.repository.findDepositRequest(subject, idempotencyKey);
    if (!existing) throw new PaygraphError(ErrorCode.INTERNAL_SERVER_ERROR, 'idempotency key vanished');
    if (existing.fingerprint !== fingerprint) {
      throw new PaygraphError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'this idempotencyKey was already used for a different deposit', {
        field: 'idempotencyKey',
      });
    }
    return existing;
  }
}
