import { convertMinor, crossRate, formatRate, loadRateTable, parseRate, quote, usdEquivalentMinor } from './fx';

const table = loadRateTable();

describe('FX conversion', () => {
  test('the shipped rate table loads and USD is 1', () => {
    expect(formatRate(table.get('USD')!)).toBe('1');
    expect(formatRate(table.get('EUR')!)).toBe('0.92');
  });

  test('cross rates are the ratio rounded half-even to 10 places', () => {
    expect(formatRate(crossRate(table, 'USD', 'EUR'))).toBe('0.92');
    expect(formatRate(crossRate(table, 'EUR', 'USD'))).toBe('1.0869565217'); // 1/0.92 = 1.08695652173…
    expect(formatRate(crossRate(table, 'EUR', 'JPY'))).toBe('164.5326086957'); // 151.37/0.92 = 164.53260869565…
    expect(formatRate(crossRate(table, 'USD', 'USD'))).toBe('1');
  });

  test.each([
    // [sourceMinor, source, target, rate, expected target minor]
    [12550n, 'USD', 'EUR', '0.92', 11546n], // 125.50 * 0.92 = 115.46 exact
    [1n, 'USD', 'EUR', '0.5', 0n], // 0.005 EUR → 0.00: half to even (0)
    [3n, 'USD', 'EUR', '0.5', 2n], // 0.015 → 0.02: half to even (2)
    [5n, 'USD', 'EUR', '0.5', 2n], // 0.025 → 0.02
    [7n, 'USD', 'EUR', '0.5', 4n], // 0.035 → 0.04
    [150n, 'USD', 'JPY', '1', 2n], // 1.50 USD → 1.5 JPY → 2 (exp 0, half even)
    [250n, 'USD', 'JPY', '1', 2n], // 2.5 JPY → 2
    [251n, 'USD', 'JPY', '1', 3n], // 2.51 JPY → 3 (above half)
    [10000n, 'USD', 'JPY', '151.37', 15137n], // 100.00 USD → 15137 JPY
    [1000n, 'JPY', 'USD', '0.0066063289', 661n], // 1000 JPY → 6.6063289 USD → 6.61
    [100n, 'USD', 'BHD', '0.376', 376n], // 1.00 USD → 0.376 BHD (exp 3)
    [1n, 'USD', 'BHD', '0.3765', 4n], // 0.003765 BHD → 0.004
    [1n, 'USD', 'BHD', '0.25', 2n], // 0.0025 → 0.002 (half even)
    [1n, 'USD', 'BHD', '0.35', 4n], // 0.0035 → 0.004 (half even)
    [1000n, 'BHD', 'JPY', '400.5', 400n], // 1.000 BHD → 400.5 JPY → 400 (half even)
    [1000n, 'BHD', 'JPY', '401.5', 402n], // 401.5 → 402 (half even)
    [5n, 'JPY', 'BHD', '0.0025', 12n], // 5 JPY → 0.0125 BHD → 0.012 (half even, exp 3)
  ])('%s %s → %s at %s = %s', (minor, source, target, rate, expected) => {
    expect(convertMinor(minor, source, target, parseRate(rate))).toBe(expected);
  });

  test('a quote locks the rate and both amounts', () => {
    const q = quote(table, 10000n, 'USD', 'EUR', new Date('2026-01-01T00:00:00Z'));
    expect(q).toEqual({ rate: '0.92', sourceMinor: 10000n, sourceCurrency: 'USD', targetMinor: 9200n, targetCurrency: 'EUR', lockedAt: new Date('2026-01-01T00:00:00Z') });
  });

  test('USD equivalents', () => {
    expect(usdEquivalentMinor(table, 12345n, 'USD')).toBe(12345n);
    expect(usdEquivalentMinor(table, 9200n, 'EUR')).toBe(10000n);
    expect(usdEquivalentMinor(table, 15137n, 'JPY')).toBe(10000n);
  });

  test('unknown currencies and bad rates are refused', () => {
    expect(() => crossRate(table, 'USD', 'XCD')).toThrow(/no FX rate/);
    expect(() => parseRate('1e5')).toThrow();
    expect(() => parseRate('0')).toThrow();
  });
});
