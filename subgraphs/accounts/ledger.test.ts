import { ErrorCode } from '../../runtime/errors';
import {
  checkPostedLegsMatch,
  checkTransfer,
  ledgerCursor,
  missingLegs,
  nextPosition,
  parseLedgerCursor,
  requestFingerprint,
  systemAccountIdFor,
  validateIdempotencyKey,
  validateTransferId,
  type LedgerAccount,
  type TransferRequest,
} from './ledger';
import { isAccountId } from './ids';
import { errorCodeOf } from '../../tests/support/error-code';

const customer: LedgerAccount = { id: 'acc_a', currency: 'USD', status: 'ACTIVE', systemPurpose: null };
const other: LedgerAccount = { id: 'acc_b', currency: 'USD', status: 'ACTIVE', systemPurpose: null };
const funding: LedgerAccount = { id: 'acc_sys_funding_usd', currency: 'USD', status: 'ACTIVE', systemPurpose: 'FUNDING' };
const request: TransferRequest = { transferId: 't1', paymentId: null, debitAccountId: 'acc_a', creditAccountId: 'acc_b', amountMinor: 500n, currency: 'USD' };

describe('nextPosition', () => {
  it('starts an account at sequence 1 from a zero balance', () => {
    expect(nextPosition(customer, null, 'CREDIT', 250n)).toEqual({ sequence: 1, balanceAfterMinor: 250n });
  });

  it('follows the latest entry', () => {
    expect(nextPosition(customer, { sequence: 7, balanceAfterMinor: 1000n }, 'DEBIT', 400n)).toEqual({ sequence: 8, balanceAfterMinor: 600n });
    expect(nextPosition(customer, { sequence: 7, balanceAfterMinor: 1000n }, 'DEBIT', 1000n)).toEqual({ sequence: 8, balanceAfterMinor: 0n });
  });

  it('never takes a customer account below zero', () => {
    expect(errorCodeOf(() => nextPosition(customer, { sequence: 1, balanceAfterMinor: 999n }, 'DEBIT', 1000n))).toBe(ErrorCode.INSUFFICIENT_FUNDS);
    expect(errorCodeOf(() => nextPosition(customer, null, 'DEBIT', 1n))).toBe(ErrorCode.INSUFFICIENT_FUNDS);
  });

  it('lets the bank’s own accounts go negative', () => {
    expect(nextPosition(funding, null, 'DEBIT', 1000n)).toEqual({ sequence: 1, balanceAfterMinor: -1000n });
  });

  it('refuses to overflow int64', () => {
    expect(errorCodeOf(() => nextPosition(customer, { sequence: 1, balanceAfterMinor: 2n ** 63n - 1n }, 'CREDIT', 1n))).toBe(ErrorCode.BAD_USER_INPUT);
  });
});

describe('checkTransfer', () => {
  it('accepts two active accounts in the transfer currency', () => {
    expect(() => checkTransfer(request, customer, other)).not.toThrow();
  });

  it.each([
    ['zero amount', { ...request, amountMinor: 0n }, customer, other, ErrorCode.BAD_USER_INPUT],
    ['negative amount', { ...request, amountMinor: -5n }, customer, other, ErrorCode.BAD_USER_INPUT],
    ['same account', request, customer, customer, ErrorCode.BAD_USER_INPUT],
    ['debit currency', request, { ...customer, currency: 'EUR' }, other, ErrorCode.BAD_USER_INPUT],
    ['credit currency', request, customer, { ...other, currency: 'EUR' }, ErrorCode.BAD_USER_INPUT],
    ['transfer currency', { ...request, currency: 'EUR' }, customer, other, ErrorCode.BAD_USER_INPUT],
    ['frozen debit', request, { ...customer, status: 'FROZEN' as const }, other, ErrorCode.FORBIDDEN],
    ['closed credit', request, customer, { ...other, status: 'CLOSED' as const }, ErrorCode.FORBIDDEN],
  ])('refuses %s', (_name, transfer, debit, credit, code) => {
    expect(errorCodeOf(() => checkTransfer(transfer, debit, credit))).toBe(code);
  });
});

describe('posted legs', () => {
  const debitLeg = { accountId: 'acc_a', direction: 'DEBIT' as const, amountMinor: 500n, currency: 'USD' };
  const creditLeg = { accountId: 'acc_b', direction: 'CREDIT' as const, amountMinor: 500n, currency: 'USD' };

  it('lists what is left to post, debit first', () => {
    expect(missingLegs([])).toEqual(['DEBIT', 'CREDIT']);
    expect(missingLegs([debitLeg])).toEqual(['CREDIT']);
    expect(missingLegs([debitLeg, creditLeg])).toEqual([]);
  });

  it('accepts the same transfer again and refuses a different one under its id', () => {
    expect(() => checkPostedLegsMatch(request, [debitLeg, creditLeg])).not.toThrow();
    expect(errorCodeOf(() => checkPostedLegsMatch({ ...request, amountMinor: 501n }, [debitLeg]))).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
    expect(errorCodeOf(() => checkPostedLegsMatch({ ...request, creditAccountId: 'acc_c' }, [debitLeg, creditLeg]))).toBe(
      ErrorCode.IDEMPOTENCY_KEY_REUSED,
    );
    expect(errorCodeOf(() => checkPostedLegsMatch({ ...request, currency: 'EUR' }, [creditLeg]))).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
  });
});

describe('inputs', () => {
  it('fingerprints requests independently of field order, and differently for different values', () => {
    const a = requestFingerprint({ accountId: 'acc_a', amountMinor: 100n, currency: 'USD' });
    expect(requestFingerprint({ currency: 'USD', amountMinor: 100n, accountId: 'acc_a' })).toBe(a);
    expect(requestFingerprint({ accountId: 'acc_a', amountMinor: 101n, currency: 'USD' })).not.toBe(a);
  });

  it('validates idempotency keys and transfer ids', () => {
    expect(validateIdempotencyKey('order-42')).toBe('order-42');
    for (const bad of ['', ' ', 'a b', 'x'.repeat(201), 42, { $gt: '' }]) expect(errorCodeOf(() => validateIdempotencyKey(bad))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(validateTransferId('pay_0123:refund-1')).toBe('pay_0123:refund-1');
    for (const bad of ['', 'a b', 'x'.repeat(129), '$where', { $ne: null }]) expect(errorCodeOf(() => validateTransferId(bad))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('pages 1..100 with sequence cursors', () => {
    expect(parseLedgerCursor(ledgerCursor(42))).toBe(42);
    expect(parseLedgerCursor(null)).toBeNull();
    for (const bad of ['', '0', '-1', '01', 'abc', '1e3', '99999999999999999']) expect(errorCodeOf(() => parseLedgerCursor(bad))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('names system accounts readably and accepts them as account ids', () => {
    expect(systemAccountIdFor('EXTERNAL_SETTLEMENT', 'EUR')).toBe('acc_sys_external_settlement_eur');
    expect(isAccountId(systemAccountIdFor('FX_POSITION', 'JPY'))).toBe(true);
  });
});
