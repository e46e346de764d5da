import { ErrorCode, PaygraphError } from '../../runtime/errors';
import { assertTransition, canTransition, PAYMENT_STATUSES, TERMINAL_STATUSES, TRANSITIONS, type PaymentStatus } from './state-machine';

const allowed: [PaymentStatus, PaymentStatus][] = [
  ['PENDING', 'REQUIRES_REVIEW'],
  ['PENDING', 'REQUIRES_APPROVAL'],
  ['PENDING', 'PROCESSING'],
  ['PENDING', 'DECLINED'],
  ['PENDING', 'BLOCKED'],
  ['PENDING', 'CANCELED'],
  ['REQUIRES_REVIEW', 'REQUIRES_APPROVAL'],
  ['REQUIRES_REVIEW', 'PROCESSING'],
  ['REQUIRES_REVIEW', 'DECLINED'],
  ['REQUIRES_REVIEW', 'BLOCKED'],
  ['REQUIRES_REVIEW', 'CANCELED'],
  ['REQUIRES_APPROVAL', 'PROCESSING'],
  ['REQUIRES_APPROVAL', 'DECLINED'],
  ['REQUIRES_APPROVAL', 'CANCELED'],
  ['PROCESSING', 'SETTLED'],
  ['PROCESSING', 'FAILED'],
  ['SETTLED', 'PARTIALLY_REFUNDED'],
  ['SETTLED', 'REFUNDED'],
  ['PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED'],
  ['PARTIALLY_REFUNDED', 'REFUNDED'],
  // Two-phase payments (holds).
  ['PROCESSING', 'AUTHORIZED'],
  ['AUTHORIZED', 'SETTLED'],
  ['AUTHORIZED', 'VOIDED'],
  ['AUTHORIZED', 'EXPIRED'],
];

describe('payment state machine', () => {
  test.each(allowed)('%s → %s is allowed', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  test('the table lists exactly the allowed transitions', () => {
    const listed = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}>${to}`));
    expect(listed.sort()).toEqual(allowed.map(([f, t]) => `${f}>${t}`).sort());
  });

  test.each<[PaymentStatus, PaymentStatus]>([
    ['PENDING', 'SETTLED'],
    ['PENDING', 'REFUNDED'],
    ['PROCESSING', 'CANCELED'],
    ['PROCESSING', 'PENDING'],
    ['SETTLED', 'CANCELED'],
    ['SETTLED', 'FAILED'],
    ['REQUIRES_APPROVAL', 'SETTLED'],
    ['REQUIRES_APPROVAL', 'BLOCKED'],
    ['FAILED', 'PROCESSING'],
    ['CANCELED', 'PENDING'],
    ['REFUNDED', 'PARTIALLY_REFUNDED'],
    ['DECLINED', 'SETTLED'],
    ['AUTHORIZED', 'FAILED'],
    ['AUTHORIZED', 'REFUNDED'],
    ['PENDING', 'AUTHORIZED'],
    ['VOIDED', 'SETTLED'],
    ['EXPIRED', 'AUTHORIZED'],
  ])('%s → %s is INVALID_STATE_TRANSITION', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    try {
      assertTransition(from, to);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(PaygraphError);
      expect((error as PaygraphError).code).toBe(ErrorCode.INVALID_STATE_TRANSITION);
    }
  });

  test('terminal statuses allow nothing and every status is in the table', () => {
    for (const status of TERMINAL_STATUSES) expect(TRANSITIONS[status]).toEqual([]);
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...PAYMENT_STATUSES].sort());
  });
});
