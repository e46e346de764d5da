import { ErrorCode } from '../../runtime/errors';
import { errorCodeOf } from '../../tests/support/error-code';
import { authorizationFingerprint, captureAmountMinor, judgeClose, newAuthorization, postedStatus, resolveExpiresAt, settledAmountMinor, type AuthorizationRecord } from './holds';
import type { PaymentStatus } from './state-machine';

const now = new Date('2026-12-04T12:00:00.000Z');
const config = { defaultTtlMs: 60_000, maxTtlMs: 3_600_000 };
const later = new Date(now.getTime() + 30_000);
const auth = (over: Partial<AuthorizationRecord> = {}): AuthorizationRecord => ({ expiresAt: later, closing: null, capturedMinor: null, ...over });
const payment = (status: PaymentStatus, authorization: AuthorizationRecord | null = auth()) => ({ status, authorization });

describe('resolveExpiresAt', () => {
  it('defaults to now + the default and keeps a valid expiry', () => {
    expect(resolveExpiresAt(undefined, now, config)).toEqual(new Date(now.getTime() + 60_000));
    expect(resolveExpiresAt(later, now, config)).toBe(later);
  });
  it('refuses the past, now, beyond the maximum and non-dates', () => {
    for (const bad of [now, new Date(now.getTime() - 1), new Date(now.getTime() + 3_600_001), '2026-12-05T00:00:00.000Z']) {
      expect(errorCodeOf(() => resolveExpiresAt(bad, now, config))).toBe(ErrorCode.BAD_USER_INPUT);
    }
  });
});

describe('captureAmountMinor', () => {
  const p = { amountMinor: 5000n, currency: 'USD' };
  it('is the whole hold without an amount, else the amount in minor units', () => {
    expect(captureAmountMinor(null, p)).toBe(5000n);
    expect(captureAmountMinor({ amount: '12.34', currency: 'USD' }, p)).toBe(1234n);
    expect(captureAmountMinor({ amount: '50.00', currency: 'USD' }, p)).toBe(5000n);
  });
  it('refuses zero, more than held, another currency and bad decimals', () => {
    for (const bad of [{ amount: '0', currency: 'USD' }, { amount: '50.01', currency: 'USD' }, { amount: '1.00', currency: 'EUR' }, { amount: '1.001', currency: 'USD' }, { amount: 5 }]) {
      expect(errorCodeOf(() => captureAmountMinor(bad, p))).toBe(ErrorCode.BAD_USER_INPUT);
    }
  });
});

describe('judgeClose', () => {
  it('starts a close on an open, unexpired hold', () => {
    expect(judgeClose(payment('AUTHORIZED'), 'capture', 100n, now)).toBe('start');
    expect(judgeClose(payment('AUTHORIZED'), 'void', 5000n, now)).toBe('start');
  });
  it('resumes the committed close, and refuses any other', () => {
    const closing = { kind: 'capture' as const, amountMinor: 100n, by: 'a', at: now };
    expect(judgeClose(payment('AUTHORIZED', auth({ closing })), 'capture', 100n, now)).toBe('resume');
    expect(errorCodeOf(() => judgeClose(payment('AUTHORIZED', auth({ closing })), 'void', 5000n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    expect(errorCodeOf(() => judgeClose(payment('AUTHORIZED', auth({ closing })), 'capture', 200n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
  });
  it('answers a repeated close with the payment, and refuses a different one', () => {
    expect(judgeClose(payment('SETTLED', auth({ capturedMinor: 100n })), 'capture', 100n, now)).toBe('done');
    expect(judgeClose(payment('VOIDED'), 'void', 5000n, now)).toBe('done');
    expect(errorCodeOf(() => judgeClose(payment('SETTLED', auth({ capturedMinor: 100n })), 'capture', 200n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    expect(errorCodeOf(() => judgeClose(payment('VOIDED'), 'capture', 100n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    expect(errorCodeOf(() => judgeClose(payment('EXPIRED'), 'void', 5000n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
  });
  it('leaves a lapsed hold to expiry, and expires only lapsed holds', () => {
    const lapsed = payment('AUTHORIZED', auth({ expiresAt: now }));
    expect(errorCodeOf(() => judgeClose(lapsed, 'capture', 100n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    expect(judgeClose(lapsed, 'expire', 5000n, now)).toBe('start');
    expect(errorCodeOf(() => judgeClose(payment('AUTHORIZED'), 'expire', 5000n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
  });
  it('refuses payments that are not authorizations, and holds still being decided', () => {
    expect(errorCodeOf(() => judgeClose(payment('SETTLED', null), 'capture', 100n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    expect(errorCodeOf(() => judgeClose(payment('REQUIRES_APPROVAL'), 'void', 5000n, now))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
  });
});

describe('authorizations elsewhere in the saga', () => {
  it('post to AUTHORIZED, settle what was captured, and refuse conversions', () => {
    expect(postedStatus({ authorization: auth() })).toBe('AUTHORIZED');
    expect(postedStatus({ authorization: null })).toBe('SETTLED');
    expect(settledAmountMinor({ amountMinor: 5000n, authorization: auth({ capturedMinor: 1200n }) })).toBe(1200n);
    expect(settledAmountMinor({ amountMinor: 5000n })).toBe(5000n);
    expect(errorCodeOf(() => newAuthorization({ expiresAt: later, requestedExpiresAt: null }, { rate: '0.9' }))).toBe(ErrorCode.BAD_USER_INPUT);
  });
  it('fingerprint the expiry asked for with the request', () => {
    const terms = (requestedExpiresAt: Date | null) => ({ expiresAt: later, requestedExpiresAt });
    expect(authorizationFingerprint('f', terms(null))).toBe(authorizationFingerprint('f', terms(null)));
    expect(authorizationFingerprint('f', terms(later))).not.toBe(authorizationFingerprint('f', terms(null)));
  });
});
