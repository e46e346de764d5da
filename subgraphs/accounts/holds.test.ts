import { ErrorCode } from '../../runtime/errors';
import { errorCodeOf } from '../../tests/support/error-code';
import { holdIds, holdState, planCapture, planCaptureCredit, planHold, planRelease, requireOpenHold, checkSameHold, checkSameCapture } from './holds';
import { availableOf, nextPosition, positionOf, type LedgerAccount, type LedgerPosition } from './ledger';
import type { LedgerRecordDoc } from './repository';

const payer: LedgerAccount = { id: 'acc_a', currency: 'USD', status: 'ACTIVE', systemPurpose: null };
const payee: LedgerAccount = { id: 'acc_b', currency: 'USD', status: 'ACTIVE', systemPurpose: null };
const now = new Date('2026-12-04T12:00:00.000Z');
const funded: LedgerPosition = { sequence: 3, balanceAfterMinor: 1000n };
const holdOf = (amountMinor: bigint, latest: LedgerPosition = funded) =>
  planHold({ paymentId: 'pay_1', accountId: 'acc_a', amountMinor, currency: 'USD' }, payer, latest, now);

describe('planHold', () => {
  it('lowers the available balance, not the posted one, at the next sequence', () => {
    const hold = holdOf(400n);
    expect([hold._id, hold.direction, hold.sequence, hold.balanceAfterMinor, hold.availableAfterMinor, hold.heldDeltaMinor]).toEqual([
      holdIds('pay_1').holdEntryId, 'HOLD', 4, 1000n, 600n, 400n,
    ]);
  });

  it('refuses beyond the available balance, counting earlier holds', () => {
    expect(holdOf(1000n).availableAfterMinor).toBe(0n);
    expect(errorCodeOf(() => holdOf(1001n))).toBe(ErrorCode.INSUFFICIENT_FUNDS);
    const afterHold = positionOf(holdOf(700n));
    expect(errorCodeOf(() => holdOf(301n, afterHold))).toBe(ErrorCode.INSUFFICIENT_FUNDS);
    expect(holdOf(300n, afterHold).availableAfterMinor).toBe(0n);
  });

  it('refuses bad amounts, another currency and accounts that are not active', () => {
    expect(errorCodeOf(() => holdOf(0n))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(errorCodeOf(() => planHold({ paymentId: 'pay_1', accountId: 'acc_a', amountMinor: 1n, currency: 'EUR' }, payer, funded, now))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(errorCodeOf(() => planHold({ paymentId: 'pay_1', accountId: 'acc_a', amountMinor: 1n, currency: 'USD' }, { ...payer, status: 'FROZEN' }, funded, now))).toBe(ErrorCode.FORBIDDEN);
  });
});

describe('ordinary debits after a hold', () => {
  it('are checked against the available balance: held money cannot be spent', () => {
    const afterHold = positionOf(holdOf(700n));
    expect(errorCodeOf(() => nextPosition(payer, afterHold, 'DEBIT', 301n))).toBe(ErrorCode.INSUFFICIENT_FUNDS);
    expect(nextPosition(payer, afterHold, 'DEBIT', 300n)).toEqual({ sequence: 5, balanceAfterMinor: 700n, availableAfterMinor: 0n });
    expect(nextPosition(payer, afterHold, 'CREDIT', 50n)).toEqual({ sequence: 5, balanceAfterMinor: 1050n, availableAfterMinor: 350n });
  });
});

describe('closing a hold', () => {
  const hold = holdOf(400n);
  const afterHold = positionOf(hold);

  it('a release gives the held amount back to the available balance', () => {
    const release = planRelease('pay_1', hold, afterHold, now);
    expect([release._id, release.direction, release.sequence, release.balanceAfterMinor, availableOf(positionOf(release)), release.heldDeltaMinor]).toEqual([
      holdIds('pay_1').closeEntryId, 'RELEASE', 5, 1000n, 1000n, -400n,
    ]);
  });

  it('a partial capture posts the captured amount and releases the whole hold in the same debit', () => {
    const [debit, credit] = planCapture({ paymentId: 'pay_1', creditAccountId: 'acc_b', amountMinor: 150n }, hold, payer, payee, afterHold, null, now);
    expect([debit._id, debit.direction, debit.amountMinor, debit.balanceAfterMinor, debit.availableAfterMinor, debit.heldDeltaMinor]).toEqual([
      holdIds('pay_1').closeEntryId, 'DEBIT', 150n, 850n, 850n, -400n,
    ]);
    expect([credit._id, credit.accountId, credit.direction, credit.amountMinor, credit.sequence, credit.balanceAfterMinor]).toEqual([
      holdIds('pay_1').captureCreditId, 'acc_b', 'CREDIT', 150n, 1, 150n,
    ]);
  });

  it('a capture is never refused for funds the hold covers, even when the rest is held elsewhere', () => {
    const second = positionOf(planHold({ paymentId: 'pay_2', accountId: 'acc_a', amountMinor: 600n, currency: 'USD' }, payer, afterHold, now));
    const [debit] = planCapture({ paymentId: 'pay_1', creditAccountId: 'acc_b', amountMinor: 400n }, hold, payer, payee, second, null, now);
    expect([debit.balanceAfterMinor, debit.availableAfterMinor]).toEqual([600n, 0n]);
  });

  it('refuses captures beyond the hold and to accounts that are not active', () => {
    const capture = (amountMinor: bigint, credit = payee) => () => planCapture({ paymentId: 'pay_1', creditAccountId: credit.id, amountMinor }, hold, payer, credit, afterHold, null, now);
    expect(errorCodeOf(capture(401n))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(errorCodeOf(capture(0n))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(errorCodeOf(capture(100n, { ...payee, status: 'CLOSED' }))).toBe(ErrorCode.FORBIDDEN);
  });

  it('finishes a half-posted capture with the payee credit only', () => {
    const [debit] = planCapture({ paymentId: 'pay_1', creditAccountId: 'acc_b', amountMinor: 150n }, hold, payer, payee, afterHold, null, now);
    const credit = planCaptureCredit('pay_1', debit, payee, { sequence: 9, balanceAfterMinor: 10n }, now);
    expect([credit.sequence, credit.balanceAfterMinor]).toEqual([10, 160n]);
  });
});

describe('holdState', () => {
  const hold = holdOf(400n);
  const [debit, credit] = planCapture({ paymentId: 'pay_1', creditAccountId: 'acc_b', amountMinor: 400n }, hold, payer, payee, positionOf(hold), null, now);
  const release = planRelease('pay_1', hold, positionOf(hold), now);
  const kind = (records: LedgerRecordDoc[]) => holdState('pay_1', records).kind;

  it('reads the hold records as none, held, released or captured', () => {
    expect(kind([])).toBe('none');
    expect(kind([hold])).toBe('held');
    expect(kind([hold, release])).toBe('released');
    expect(kind([hold, debit, credit])).toBe('captured');
    expect(holdState('pay_1', [hold, debit])).toMatchObject({ kind: 'captured', credit: undefined });
  });

  it('closes a hold only once', () => {
    expect(requireOpenHold('pay_1', holdState('pay_1', [hold]), 'released')).toBe(hold);
    expect(errorCodeOf(() => requireOpenHold('pay_1', holdState('pay_1', []), 'released'))).toBe(ErrorCode.NOT_FOUND);
    expect(errorCodeOf(() => requireOpenHold('pay_1', holdState('pay_1', [hold, release]), 'captured'))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    expect(errorCodeOf(() => requireOpenHold('pay_1', holdState('pay_1', [hold, debit, credit]), 'released'))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
  });

  it('recognises the same request again and refuses a different one under the payment id', () => {
    expect(() => checkSameHold({ paymentId: 'pay_1', accountId: 'acc_a', amountMinor: 400n, currency: 'USD' }, hold)).not.toThrow();
    expect(errorCodeOf(() => checkSameHold({ paymentId: 'pay_1', accountId: 'acc_a', amountMinor: 401n, currency: 'USD' }, hold))).toBe(ErrorCode.IDEMPOTENCY_KEY_REUSED);
    expect(() => checkSameCapture({ paymentId: 'pay_1', creditAccountId: 'acc_b', amountMinor: 400n }, debit, credit)).not.toThrow();
    expect(errorCodeOf(() => checkSameCapture({ paymentId: 'pay_1', creditAccountId: 'acc_b', amountMinor: 300n }, debit, credit))).toBe(ErrorCode.INVALID_STATE_TRANSITION);
  });
});
