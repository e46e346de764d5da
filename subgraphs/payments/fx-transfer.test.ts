import { ErrorCode, forbidden, isPaygraphError, PaygraphError } from '../../runtime/errors';
import type { Collaborators, TransferInput } from './collaborators';
import { assertRefundable, fxLegs, postFxLegs, reverseFirstLeg, SecondLegRefused, type FxPayment } from './fx-transfer';

/**
 * The legs of an FX payment and what happens when the second is refused for good. The ledger
 * here is a small in-memory double-entry book (posting by transfer id, once) standing in for the
 * accounts subgraph, whose own rules are tested against the real database elsewhere.
 */
class Book implements Pick<Collaborators, 'postTransfer' | 'systemAccountId'> {
  readonly posted = new Map<string, TransferInput>();
  readonly frozen = new Set<string>();
  async systemAccountId(purpose: string, currency: string): Promise<string> {
    return `acc_sys_${purpose.toLowerCase()}_${currency.toLowerCase()}`;
  }
  async postTransfer(input: TransferInput): Promise<void> {
    if (this.posted.has(input.transferId)) return;
    if (this.frozen.has(input.creditAccountId) || this.frozen.has(input.debitAccountId)) throw forbidden(`account is frozen`);
    this.posted.set(input.transferId, input);
  }
  balance(accountId: string, currency: string): bigint {
    let total = 0n;
    for (const t of this.posted.values()) {
      if (t.currency !== currency) continue;
      if (t.creditAccountId === accountId) total += t.amountMinor;
      if (t.debitAccountId === accountId) total -= t.amountMinor;
    }
    return total;
  }
}

const payment: FxPayment = {
  _id: 'pay_1',
  sourceAccountId: 'acc_usd',
  destinationAccountId: 'acc_eur',
  fx: { rate: '0.9177', sourceMinor: 10_000n, sourceCurrency: 'USD', targetMinor: 9_177n, targetCurrency: 'EUR', lockedAt: new Date(0) },
};
const isFinal = (error: unknown) => isPaygraphError(error) && error.code === ErrorCode.FORBIDDEN;

describe('FX legs', () => {
  test('one leg per currency through the house FX positions, ids by payment id and leg', () => {
    const [fxIn, fxOut] = fxLegs(payment, { positionIn: 'house_usd', positionOut: 'house_eur', payee: 'acc_eur' });
    expect(fxIn).toEqual({ transferId: 'pay_1:fx-in', paymentId: 'pay_1', debitAccountId: 'acc_usd', creditAccountId: 'house_usd', amountMinor: 10_000n, currency: 'USD' });
    expect(fxOut).toEqual({ transferId: 'pay_1:fx-out', paymentId: 'pay_1', debitAccountId: 'house_eur', creditAccountId: 'acc_eur', amountMinor: 9_177n, currency: 'EUR' });
  });

  test('posting again after a stop between the legs posts only the missing leg', async () => {
    const book = new Book();
    await expect(postFxLegs(payment, book as unknown as Collaborators, isFinal, () => { throw new Error('stopped between the legs'); })).rejects.toThrow('stopped');
    expect([...book.posted.keys()]).toEqual(['pay_1:fx-in']);
    await postFxLegs(payment, book as unknown as Collaborators, isFinal, () => undefined);
    await postFxLegs(payment, book as unknown as Collaborators, isFinal, () => undefined);
    expect([...book.posted.keys()]).toEqual(['pay_1:fx-in', 'pay_1:fx-out']);
    expect(book.balance('acc_usd', 'USD') + book.balance('acc_sys_fx_position_usd', 'USD')).toBe(0n);
    expect(book.balance('acc_eur', 'EUR') + book.balance('acc_sys_fx_position_eur', 'EUR')).toBe(0n);
  });

  test('a second leg refused for good is reported with its cause; the reversal pays the first leg back, once', async () => {
    const book = new Book();
    book.frozen.add('acc_eur');
    const error = await postFxLegs(payment, book as unknown as Collaborators, isFinal, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecondLegRefused);
    expect(((error as SecondLegRefused).cause as PaygraphError).code).toBe(ErrorCode.FORBIDDEN);
    expect([...book.posted.keys()]).toEqual(['pay_1:fx-in']);
    await reverseFirstLeg(payment, book as unknown as Collaborators);
    await reverseFirstLeg(payment, book as unknown as Collaborators);
    expect([...book.posted.keys()]).toEqual(['pay_1:fx-in', 'pay_1:fx-in:reversal']);
    expect(book.balance('acc_usd', 'USD')).toBe(0n);
    expect(book.balance('acc_sys_fx_position_usd', 'USD')).toBe(0n);
  });

  test('a refusal that is not final is passed on as it came (the saga retries the legs later)', async () => {
    const book = new Book();
    book.postTransfer = async (input) => {
      if (input.transferId.endsWith(':fx-out')) throw new Error('accounts unavailable');
      book.posted.set(input.transferId, input);
    };
    await expect(postFxLegs(payment, book as unknown as Collaborators, isFinal, () => undefined)).rejects.toThrow('accounts unavailable');
  });

  test('a reversal that cannot be posted now is not final: the saga retries it later', async () => {
    const book = new Book();
    await book.postTransfer(fxLegs(payment, { positionIn: 'acc_sys_fx_position_usd', positionOut: 'acc_sys_fx_position_eur', payee: 'acc_eur' })[0]);
    book.frozen.add('acc_usd');
    const error = await reverseFirstLeg(payment, book as unknown as Collaborators).catch((e: unknown) => e);
    expect(isFinal(error)).toBe(false);
    expect(error).toBeInstanceOf(Error);
    book.frozen.delete('acc_usd');
    await reverseFirstLeg(payment, book as unknown as Collaborators);
    expect(book.balance('acc_usd', 'USD')).toBe(0n);
  });

  test('cross-currency transfers between accounts are not refundable; payouts and same-currency payments are', () => {
    expect(() => assertRefundable(payment)).toThrow(expect.objectContaining({ code: ErrorCode.BAD_USER_INPUT }));
    expect(() => assertRefundable({ fx: payment.fx, destinationAccountId: null })).not.toThrow();
    expect(() => assertRefundable({ fx: null, destinationAccountId: 'acc_eur' })).not.toThrow();
  });
});
