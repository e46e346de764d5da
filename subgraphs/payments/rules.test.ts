import { ErrorCode } from '../../runtime/errors';
import { assertSameRequest, checkApprover, hasEnoughApprovals, paymentFingerprint, requiredApprovals, validateCreatePayment } from './rules';
import { errorCodeOf } from '../../tests/support/error-code';

const base = { idempotencyKey: 'key-1', sourceAccountId: 'acc_1', destinationAccountId: 'acc_2', amount: { amount: '10.00', currency: 'USD' } };

describe('createPayment validation', () => {
  test('a valid transfer parses into minor units', () => {
    expect(validateCreatePayment(base)).toEqual({
      idempotencyKey: 'key-1', sourceAccountId: 'acc_1', destinationAccountId: 'acc_2', beneficiary: null, amountMinor: 1000n, currency: 'USD', reference: null,
    });
  });

  test.each([
    ['empty key', { ...base, idempotencyKey: '' }],
    ['key with a space', { ...base, idempotencyKey: 'a b' }],
    ['key too long', { ...base, idempotencyKey: 'k'.repeat(129) }],
    ['both destination and beneficiary', { ...base, beneficiary: { name: 'B', country: 'DE', accountNumber: 'DE89370400440532013000', currency: 'EUR' } }],
    ['neither', { ...base, destinationAccountId: null }],
    ['destination = source', { ...base, destinationAccountId: 'acc_1' }],
    ['zero', { ...base, amount: { amount: '0', currency: 'USD' } }],
    ['negative', { ...base, amount: { amount: '-1.00', currency: 'USD' } }],
    ['too many decimals', { ...base, amount: { amount: '1.001', currency: 'USD' } }],
    ['reference too long', { ...base, reference: 'r'.repeat(141) }],
    ['operator injection', { ...base, sourceAccountId: { $gt: '' } }],
    ['bad beneficiary country', { ...base, destinationAccountId: null, beneficiary: { name: 'B', country: 'Germany', accountNumber: 'DE8937040044', currency: 'EUR' } }],
    ['bad beneficiary account', { ...base, destinationAccountId: null, beneficiary: { name: 'B', country: 'DE', accountNumber: '1', currency: 'EUR' } }],
    ['blank beneficiary name', { ...base, destinationAccountId: null, beneficiary: { name: '  ', country: 'DE', accountNumber: 'DE8937040044', currency: 'EUR' } }],
  ])('%s → BAD_USER_INPUT', (_name, input) => {
    expect(errorCodeOf(() => validateCreatePayment(input as Record<string, unknown>))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  test('a reference of 140 characters is fine', () => {
    expect(validateCreatePayment({ ...base, reference: 'r'.repeat(140) }).reference).toHaveLength(140);
  });
});

describe('idempotency fingerprint', () => {
  const request = validateCreatePayment(base);
  test('the key is not part of the fingerprint; every other field is', () => {
    expect(paymentFingerprint(request)).toMatch(/^[0-9a-f]{64}$/);
    expect(paymentFingerprint({ ...request, idempotencyKey: 'other' })).toBe(paymentFingerprint(request));
    expect(paymentFingerprint({ ...request, amountMinor: 1001n })).not.toBe(paymentFingerprint(request));
    expect(paymentFingerprint({ ...request, reference: 'x' })).not.toBe(paymentFingerprint(request));
    expect(paymentFingerprint({ ...request, destinationAccountId: 'acc_3' })).not.toBe(paymentFingerprint(request));
  });
  test('"10" and "10.00" USD are the same request', () => {
    expect(paymentFingerprint(validateCreatePayment({ ...base, amount: { amount: '10', currency: 'USD' } }))).toBe(paymentFingerprint(request));
  });
  test('a different fingerprint is IDEMPOTENCY_KEY_REUSED', () => {
    expect(errorCodeOf(() => assertSameRequest('a', 'b', 'k'))).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
    expect(errorCodeOf(() => assertSameRequest('a', 'a', 'k'))).toBeUndefined();
  });
});

describe('approval rules', () => {
  const thresholds = { singleUsdMinor: 1_000_000n, dualUsdMinor: 10_000_000n };
  test.each([
    [999_999n, 0],
    [1_000_000n, 1],
    [9_999_999n, 1],
    [10_000_000n, 2],
    [50_000_000n, 2],
  ])('%s USD minor needs %s approvals', (usd, required) => {
    expect(requiredApprovals(usd, thresholds)).toBe(required);
  });
  test('the creator cannot approve; an approver counts once', () => {
    const at = new Date();
    expect(errorCodeOf(() => checkApprover('alice', [], 'alice'))).toBe(ErrorCode.FORBIDDEN);
    expect(errorCodeOf(() => checkApprover('alice', [{ approver: 'bob', approvedAt: at }], 'bob'))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    expect(errorCodeOf(() => checkApprover('alice', [{ approver: 'bob', approvedAt: at }], 'carol'))).toBeUndefined();
    expect(hasEnoughApprovals([{ approver: 'bob', approvedAt: at }], 2)).toBe(false);
    expect(hasEnoughApprovals([{ approver: 'bob', approvedAt: at }, { approver: 'bob', approvedAt: at }], 2)).toBe(false);
    expect(hasEnoughApprovals([{ approver: 'bob', approvedAt: at }, { approver: 'carol', approvedAt: at }], 2)).toBe(true);
    expect(hasEnoughApprovals([], 0)).toBe(true);
  });
});
