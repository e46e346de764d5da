import { ErrorCode, PaygraphError } from '../../runtime/errors';
import { exponentOf } from '../../runtime/money';
import { loadRateTable, parseRate, type RateTable } from './fx';
import { answerFxQuote, customerRate, fxBreakdown, quoteFxTransfer, validateSpreadBps } from './fx-quote';

const table = loadRateTable();

/** An exact decimal string as a fraction n / 10^scale, to check sums independently of fx-quote's formatting. */
function exact(text: string): { n: bigint; scale: number } {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const n = BigInt(whole + fraction);
  return { n: negative ? -n : n, scale: fraction.length };
}
function sum(...values: { n: bigint; scale: number }[]): { n: bigint; scale: number } {
  const scale = Math.max(...values.map((v) => v.scale));
  return { n: values.reduce((total, v) => total + v.n * 10n ** BigInt(scale - v.scale), 0n), scale };
}
function equalExact(a: { n: bigint; scale: number }, b: { n: bigint; scale: number }): boolean {
  const scale = Math.max(a.scale, b.scale);
  return a.n * 10n ** BigInt(scale - a.scale) === b.n * 10n ** BigInt(scale - b.scale);
}
function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof PaygraphError ? error.code : 'not a PaygraphError';
  }
  return undefined;
}

describe('cross-currency transfer quotes', () => {
  // Expected values computed independently with Python's fractions.Fraction from the shipped table.
  test.each([
    // [sourceMinor, from, to, spreadBps, rate, midRate, targetMinor, spread, roundingRemainder]
    [10000n, 'USD', 'EUR', 25, '0.9177', '0.92', 9177n, '0.23', '0.00'],
    [12345n, 'USD', 'JPY', 25, '150.991575', '151.37', 18640n, '46.71656625', '-0.09006625'], // 18639.90993375 → 18640
    [98765n, 'EUR', 'BHD', 25, '0.4076739131', '0.4086956522', 402639n, '1.009120622115', '0.000140273215'], // 3 decimals
    [1000n, 'JPY', 'USD', 25, '0.0065898131', '0.0066063289', 659n, '0.0165158', '-0.0001869'], // from exponent 0
    [123457n, 'BHD', 'JPY', 40, '400.9694680851', '402.579787234', 49502n, '198.8051711657473', '0.4876213821907'], // 3 → 0 decimals
  ] as const)('%s %s → %s at %s bps', (sourceMinor, from, to, bps, rate, midRate, targetMinor, spread, remainder) => {
    const quote = quoteFxTransfer(table, sourceMinor, from, to, bps);
    expect(quote).toMatchObject({ rate, midRate, spreadBps: bps, sourceMinor, sourceCurrency: from, targetMinor, targetCurrency: to });
    const breakdown = fxBreakdown(quote);
    expect(breakdown.spread).toBe(spread);
    expect(breakdown.roundingRemainder).toBe(remainder);
  });

  test('nothing is lost: at the mid rate the value equals what the destination gets plus the spread plus the rounding remainder, exactly', () => {
    const currencies = ['USD', 'EUR', 'JPY', 'BHD', 'KWD', 'GBP', 'CLP'];
    for (const from of currencies) {
      for (const to of currencies) {
        if (from === to) continue;
        for (const sourceMinor of [1_000n, 1_234_567n, 99_999_999_999n, 31_415n]) {
          for (const bps of [0, 1, 25, 150]) {
            const quote = quoteFxTransfer(table, sourceMinor, from, to, bps);
            const { atMidRate, spread, roundingRemainder } = fxBreakdown(quote);
            const destination = { n: quote.targetMinor, scale: exponentOf(to) };
            expect(equalExact(exact(atMidRate), sum(destination, exact(spread), exact(roundingRemainder)))).toBe(true);
            // Half-even rounding never moves more than half a minor unit.
            const r = exact(roundingRemainder);
            const halfMinorLessAbs = sum({ n: 5n, scale: exponentOf(to) + 1 }, { n: r.n < 0n ? r.n : -r.n, scale: r.scale });
            expect(halfMinorLessAbs.n >= 0n).toBe(true);
            // The spread is never negative and is zero without one.
            expect(exact(spread).n >= 0n).toBe(true);
            if (bps === 0) expect(exact(spread).n).toBe(0n);
          }
        }
      }
    }
  });

  test('ties round half to even, and the remainder says which way the house went', () => {
    const ties: RateTable = new Map([
      ['USD', parseRate('1')],
      ['EUR', parseRate('0.5')],
      ['JPY', parseRate('1')],
    ]);
    const cases: [bigint, string, bigint, string][] = [
      [1n, 'EUR', 0n, '0.005'], // 0.005 EUR → 0.00: the house keeps half a cent
      [3n, 'EUR', 2n, '-0.005'], // 0.015 → 0.02: the house gives half a cent
      [5n, 'EUR', 2n, '0.005'],
      [150n, 'JPY', 2n, '-0.5'], // 1.5 JPY → 2
      [250n, 'JPY', 2n, '0.5'], // 2.5 JPY → 2
    ];
    for (const [sourceMinor, to, targetMinor, remainder] of cases) {
      if (targetMinor === 0n) {
        expect(codeOf(() => quoteFxTransfer(ties, sourceMinor, 'USD', to, 0))).toBe(ErrorCode.BAD_USER_INPUT);
        continue;
      }
      const quote = quoteFxTransfer(ties, sourceMinor, 'USD', to, 0);
      expect(quote.targetMinor).toBe(targetMinor);
      expect(fxBreakdown(quote).roundingRemainder).toBe(remainder);
    }
  });

  test('the customer rate is the mid rate less the spread, half-even at 10 places', () => {
    expect(customerRate({ units: 9_200_000_000n, scale: 10 }, 25)).toEqual({ units: 9_177_000_000n, scale: 10 });
    // 0.0000000003 × 0.9975 = 0.00000000029925 → 0.0000000003
    expect(customerRate({ units: 3n, scale: 10 }, 25)).toEqual({ units: 3n, scale: 10 });
    expect(customerRate({ units: 3n, scale: 10 }, 0)).toEqual({ units: 3n, scale: 10 });
  });

  test('bad input is refused with BAD_USER_INPUT and a bad spread setting is refused', () => {
    expect(codeOf(() => quoteFxTransfer(table, 100n, 'USD', 'USD', 25))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(codeOf(() => quoteFxTransfer(table, 100n, 'USD', 'XTS', 25))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(codeOf(() => quoteFxTransfer(table, 100n, 'USD', 'QQQ', 25))).toBe(ErrorCode.BAD_USER_INPUT);
    for (const args of [
      { amount: { amount: '10.001', currency: 'USD' }, to: 'EUR' },
      { amount: { amount: '-5.00', currency: 'USD' }, to: 'EUR' },
      { amount: { amount: '0', currency: 'USD' }, to: 'EUR' },
      { amount: { amount: '5.00', currency: 'USD' }, to: 5 },
      { amount: { amount: 5, currency: 'USD' }, to: 'EUR' },
      {},
    ]) {
      expect(codeOf(() => answerFxQuote(table, { spreadBps: 25, quoteTtlMs: 60_000 }, args))).toBe(ErrorCode.BAD_USER_INPUT);
    }
    expect(() => validateSpreadBps(10_000)).toThrow(RangeError);
    expect(() => validateSpreadBps(1.5)).toThrow(RangeError);
  });

  test('fxQuote answers the quote with its validity window', () => {
    const now = new Date('2026-12-04T12:00:00.000Z');
    const answer = answerFxQuote(table, { spreadBps: 25, quoteTtlMs: 60_000 }, { amount: { amount: '100.00', currency: 'USD' }, to: 'EUR' }, now);
    expect(answer).toMatchObject({
      rate: '0.9177', midRate: '0.92', spreadBps: 25,
      sourceAmount: { amount: '100.00', currency: 'USD', minorUnits: '10000' },
      destinationAmount: { amount: '91.77', currency: 'EUR', minorUnits: '9177' },
      spread: '0.23', roundingRemainder: '0.00',
    });
    expect(answer.expiresAt.toISOString()).toBe('2026-12-04T12:01:00.000Z');
  });
});
