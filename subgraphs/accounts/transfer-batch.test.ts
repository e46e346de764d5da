import type { LedgerAccount, LedgerPosition, PostedLeg, TransferRequest } from './ledger';
import { judgePostedLegs, planBatch, positionsWritten, type KnownPosition, type PlannedTransfer } from './transfer-batch';

const account = (id: string, overrides: Partial<LedgerAccount> = {}): LedgerAccount => ({ id, currency: 'USD', status: 'ACTIVE', systemPurpose: null, ...overrides });
const accounts = new Map(
  [account('a'), account('b'), account('c'), account('frozen', { status: 'FROZEN' }), account('sys', { systemPurpose: 'FUNDING' })].map((a) => [a.id, a]),
);
const at = (sequence: number, balance: bigint, fresh = true): KnownPosition => ({ position: { sequence, balanceAfterMinor: balance }, fresh });
const transfer = (transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint, postedLegs?: PostedLeg[]): PlannedTransfer => ({
  request: { transferId, paymentId: null, debitAccountId, creditAccountId, amountMinor, currency: 'USD' },
  postedLegs,
});
const now = new Date('2026-01-01T00:00:00Z');

describe('planBatch', () => {
  it('chains each account through the batch, debit before credit, transfer by transfer', () => {
    const positions = new Map([
      ['a', at(3, 500n)],
      ['b', at(0, 0n)],
      ['c', at(7, 10n)],
    ]);
    const { plans, entries, owners } = planBatch([transfer('t1', 'a', 'b', 200n), transfer('t2', 'b', 'c', 150n), transfer('t3', 'a', 'c', 300n)], accounts, positions, now);
    expect(plans).toEqual([
      { kind: 'append', first: 0, count: 2 },
      { kind: 'append', first: 2, count: 2 },
      { kind: 'append', first: 4, count: 2 },
    ]);
    expect(owners).toEqual([0, 0, 1, 1, 2, 2]);
    expect(entries.map((e) => [e._id, e.accountId, e.direction, e.sequence, e.balanceAfterMinor])).toEqual([
      ['led_t1/debit', 'a', 'DEBIT', 4, 300n],
      ['led_t1/credit', 'b', 'CREDIT', 1, 200n],
      ['led_t2/debit', 'b', 'DEBIT', 2, 50n],
      ['led_t2/credit', 'c', 'CREDIT', 8, 160n],
      ['led_t3/debit', 'a', 'DEBIT', 5, 0n],
      ['led_t3/credit', 'c', 'CREDIT', 9, 460n],
    ]);
    expect(positionsWritten(entries, 3)).toEqual(
      new Map<string, LedgerPosition>([
        ['a', { sequence: 4, balanceAfterMinor: 300n }],
        ['b', { sequence: 2, balanceAfterMinor: 50n }],
      ]),
    );
  });

  it('refuses on a position read for this batch, and writes nothing for the refused transfer', () => {
    const { plans, entries } = planBatch([transfer('t1', 'a', 'b', 600n), transfer('t2', 'a', 'b', 100n)], accounts, new Map([['a', at(1, 500n)], ['b', at(0, 0n)]]), now);
    expect(plans[0]).toMatchObject({ kind: 'refused', error: { code: 'INSUFFICIENT_FUNDS' } });
    expect(plans[1]).toEqual({ kind: 'append', first: 0, count: 2 });
    expect(entries.map((e) => e.sequence)).toEqual([2, 1]);
  });

  it('asks for a re-read before refusing on a remembered position or one an earlier transfer of the batch moved', () => {
    const remembered = planBatch([transfer('t1', 'a', 'b', 600n)], accounts, new Map([['a', at(1, 500n, false)], ['b', at(0, 0n)]]), now);
    expect(remembered.plans).toEqual([{ kind: 'recheck', accountId: 'a' }]);
    expect(remembered.entries).toEqual([]);
    const moved = planBatch([transfer('t1', 'a', 'b', 400n), transfer('t2', 'a', 'c', 400n)], accounts, new Map([['a', at(1, 500n)], ['b', at(0, 0n)], ['c', at(0, 0n)]]), now);
    expect(moved.plans).toEqual([{ kind: 'append', first: 0, count: 2 }, { kind: 'recheck', accountId: 'a' }]);
  });

  it('refuses on the accounts themselves whatever the positions', () => {
    const positions = new Map([['a', at(1, 500n, false)], ['frozen', at(1, 500n, false)], ['b', at(0, 0n)]]);
    const { plans } = planBatch(
      [transfer('t1', 'frozen', 'b', 1n), transfer('t2', 'a', 'ghost', 1n), transfer('t3', 'a', 'a', 1n), transfer('t4', 'a', 'b', 0n)],
      accounts,
      positions,
      now,
    );
    expect(plans.map((plan) => (plan.kind === 'refused' ? plan.error.code : plan.kind))).toEqual(['FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'BAD_USER_INPUT']);
  });

  it('lets the bank’s own accounts go negative', () => {
    const { entries } = planBatch([transfer('t1', 'sys', 'a', 1000n)], accounts, new Map([['sys', at(0, 0n)], ['a', at(0, 0n)]]), now);
    expect(entries.map((e) => e.balanceAfterMinor)).toEqual([-1000n, 1000n]);
  });

  it('finishes a half-posted transfer with its credit alone, without checking the debit side again', () => {
    const debit: PostedLeg = { accountId: 'frozen', direction: 'DEBIT', amountMinor: 100n, currency: 'USD' };
    const { plans, entries } = planBatch([transfer('t1', 'frozen', 'b', 100n, [debit])], accounts, new Map([['b', at(2, 5n)]]), now);
    expect(plans).toEqual([{ kind: 'append', first: 0, count: 1 }]);
    expect(entries.map((e) => [e.direction, e.accountId, e.sequence, e.balanceAfterMinor])).toEqual([['CREDIT', 'b', 3, 105n]]);
  });

  it('fails a transfer whose posted legs are another transfer’s, and has nothing to do for a posted one', () => {
    const legs: PostedLeg[] = [
      { accountId: 'a', direction: 'DEBIT', amountMinor: 100n, currency: 'USD' },
      { accountId: 'b', direction: 'CREDIT', amountMinor: 100n, currency: 'USD' },
    ];
    const { plans, entries } = planBatch([transfer('t1', 'a', 'b', 99n, legs), transfer('t2', 'a', 'b', 100n, legs)], accounts, new Map(), now);
    expect(plans[0]).toMatchObject({ kind: 'failed', error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect(plans[1]).toEqual({ kind: 'posted' });
    expect(entries).toEqual([]);
  });

  it('leaves a second transfer of the same id, and one whose position is unknown, for a later batch', () => {
    const { plans, entries } = planBatch([transfer('t1', 'a', 'b', 1n), transfer('t1', 'a', 'c', 1n), transfer('t2', 'a', 'c', 1n)], accounts, new Map([['a', at(1, 5n)], ['b', at(0, 0n)]]), now);
    expect(plans).toEqual([{ kind: 'append', first: 0, count: 2 }, { kind: 'later' }, { kind: 'later' }]);
    expect(entries).toHaveLength(2);
  });
});

describe('judgePostedLegs', () => {
  const request: TransferRequest = { transferId: 't1', paymentId: null, debitAccountId: 'a', creditAccountId: 'b', amountMinor: 100n, currency: 'USD' };
  const debit: PostedLeg = { accountId: 'a', direction: 'DEBIT', amountMinor: 100n, currency: 'USD' };
  const credit: PostedLeg = { accountId: 'b', direction: 'CREDIT', amountMinor: 100n, currency: 'USD' };

  it('tells posted, half-posted and nothing posted apart', () => {
    expect(judgePostedLegs(request, [debit, credit])).toBe('posted');
    expect(judgePostedLegs(request, [debit])).toBe('half-posted');
    expect(judgePostedLegs(request, [])).toBe('none');
  });

  it('throws IDEMPOTENCY_KEY_REUSED for another transfer’s legs', () => {
    expect(() => judgePostedLegs({ ...request, amountMinor: 99n }, [debit])).toThrow(expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }));
  });
});
