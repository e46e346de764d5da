import { ErrorCode, PaygraphError } from './errors';
import {
  INT64_MAX,
  INT64_MIN,
  addMoney,
  compareMoney,
  divideHalfEven,
  exponentOf,
  formatMinor,
  parseDecimal,
  subtractMoney,
  toMoneyOutput,
} from './money';

function rejection(run: () => unknown): { code?: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PaygraphError);
    return { code: (error as PaygraphError).code, message: (error as Error).message };
  }
  throw new Error('expected a rejection');
}

describe('exponentOf', () => {
  it.each([
    ['JPY', 0],
    ['USD', 2],
    ['EUR', 2],
    ['BHD', 3],
    ['CLF', 4],
  ])('%s has %d decimal places', (currency, exponent) => {
    expect(exponentOf(currency)).toBe(exponent);
  });

  it.each(['usd', 'XXX', 'ABC', '', 'US', 'HRK'])('rejects unknown currency %j', (currency) => {
    expect(rejection(() => exponentOf(currency)).code).toBe(ErrorCode.BAD_USER_INPUT);
  });
});

describe('parseDecimal accepts', () => {
  it.each([
    ['JPY', '0', 0n, { allowZero: true }],
    ['JPY', '1', 1n, {}],
    ['JPY', '10', 10n, {}],
    ['JPY', '9223372036854775807', INT64_MAX, {}],
    ['USD', '1', 100n, {}],
    ['USD', '1.5', 150n, {}],
    ['USD', '125.50', 12550n, {}],
    ['USD', '0.01', 1n, {}],
    ['USD', '92233720368547758.07', INT64_MAX, {}],
    ['USD', '-3.25', -325n, { allowNegative: true }],
    ['USD', '-92233720368547758.08', INT64_MIN, { allowNegative: true }],
    ['USD', '0.00', 0n, { allowZero: true }],
    ['USD', '-0', 0n, { allowZero: true }],
    ['BHD', '1.234', 1234n, {}],
    ['BHD', '0.001', 1n, {}],
    ['BHD', '7.1', 7100n, {}],
    ['CLF', '1.2345', 12345n, {}],
    ['CLF', '0.0001', 1n, {}],
    ['CLF', '3', 30000n, {}],
  ] as const)('%s %j → %s minor', (currency, amount, minor, options) => {
    expect(parseDecimal(amount, currency, options)).toEqual({ minor, currency });
  });
});

describe('parseDecimal rejects', () => {
  it.each([
    ['USD', '10.001', /2 decimal places/],
    ['JPY', '10.5', /0 decimal places/],
    ['BHD', '1.2345', /3 decimal places/],
    ['CLF', '1.23456', /4 decimal places/],
    ['USD', '-1', /negative/],
    ['JPY', '-1', /negative/],
    ['USD', '+1', /plain decimal/],
    ['USD', '1e3', /plain decimal/],
    ['USD', '1E3', /plain decimal/],
    ['USD', '', /plain decimal/],
    ['USD', ' 1', /plain decimal/],
    ['USD', '1 ', /plain decimal/],
    ['USD', '01', /plain decimal/],
    ['USD', '00.5', /plain decimal/],
    ['USD', '.5', /plain decimal/],
    ['USD', '5.', /plain decimal/],
    ['USD', '1,000.00', /plain decimal/],
    ['USD', '0x10', /plain decimal/],
    ['USD', 'NaN', /plain decimal/],
    ['USD', 'Infinity', /plain decimal/],
    ['USD', '١٢', /plain decimal/],
    ['JPY', '9223372036854775808', /range/],
    ['USD', '92233720368547758.08', /range/],
    ['CLF', '922337203685477.5808', /range/],
    ['USD', '0', /greater than zero/],
    ['USD', '0.00', /greater than zero/],
    ['JPY', '0', /greater than zero/],
    ['USD', '-0', /greater than zero/],
  ])('%s %j', (currency, amount, message) => {
    const error = rejection(() => parseDecimal(amount, currency));
    expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(error.message).toMatch(message);
  });

  it('rejects below int64 even when negatives are allowed', () => {
    expect(rejection(() => parseDecimal('-9223372036854775809', 'JPY', { allowNegative: true })).message).toMatch(/range/);
  });

  it('rejects an unknown currency before looking at the amount', () => {
    expect(rejection(() => parseDecimal('1.00', 'XYZ')).message).toMatch(/unknown currency/);
  });

  it('rejects a non-string amount', () => {
    expect(rejection(() => parseDecimal(100 as unknown as string, 'USD')).code).toBe(ErrorCode.BAD_USER_INPUT);
  });
});

describe('formatMinor', () => {
  it.each([
    [0n, 'JPY', '0'],
    [1234n, 'JPY', '1234'],
    [-5n, 'JPY', '-5'],
    [0n, 'USD', '0.00'],
    [1n, 'USD', '0.01'],
    [12550n, 'USD', '125.50'],
    [-325n, 'USD', '-3.25'],
    [INT64_MAX, 'USD', '92233720368547758.07'],
    [INT64_MIN, 'USD', '-92233720368547758.08'],
    [1n, 'BHD', '0.001'],
    [1234n, 'BHD', '1.234'],
    [12345n, 'CLF', '1.2345'],
    [1n, 'CLF', '0.0001'],
  ] as const)('%s %s → %j', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
  });

  it.each(['JPY', 'USD', 'BHD', 'CLF'])('round-trips through parseDecimal in %s', (currency) => {
    for (const minor of [1n, 7n, 10n, 99n, 100n, 1001n, 123456789n, INT64_MAX]) {
      expect(parseDecimal(formatMinor(minor, currency), currency).minor).toBe(minor);
      expect(parseDecimal(formatMinor(-minor, currency), currency, { allowNegative: true }).minor).toBe(-minor);
    }
  });

  it('rejects an unknown currency', () => {
    expect(rejection(() => formatMinor(1n, 'ZZZ')).code).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('gives the GraphQL Money shape', () => {
    expect(toMoneyOutput({ minor: 12550n, currency: 'USD' })).toEqual({ amount: '125.50', currency: 'USD', minorUnits: '12550' });
    expect(toMoneyOutput({ minor: 5n, currency: 'JPY' })).toEqual({ amount: '5', currency: 'JPY', minorUnits: '5' });
  });
});

describe('money arithmetic', () => {
  const usd = (minor: bigint) => ({ minor, currency: 'USD' });
  const eur = (minor: bigint) => ({ minor, currency: 'EUR' });

  it('adds, subtracts and compares within one currency', () => {
    expect(addMoney(usd(150n), usd(25n))).toEqual(usd(175n));
    expect(subtractMoney(usd(150n), usd(200n))).toEqual(usd(-50n));
    expect(compareMoney(usd(1n), usd(2n))).toBe(-1);
    expect(compareMoney(usd(2n), usd(2n))).toBe(0);
    expect(compareMoney(usd(3n), usd(2n))).toBe(1);
  });

  it.each([
    ['add', () => addMoney(usd(1n), eur(1n))],
    ['subtract', () => subtractMoney(usd(1n), eur(1n))],
    ['compare', () => compareMoney(usd(1n), eur(1n))],
  ])('refuses to %s across currencies', (_name, run) => {
    const error = rejection(run);
    expect(error.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(error.message).toMatch(/currency mismatch: USD and EUR/);
  });

  it('refuses to overflow int64', () => {
    expect(rejection(() => addMoney(usd(INT64_MAX), usd(1n))).message).toMatch(/overflows/);
    expect(rejection(() => subtractMoney(usd(INT64_MIN), usd(1n))).message).toMatch(/overflows/);
  });
});

describe('divideHalfEven', () => {
  it.each([
    [5n, 2n, 2n], // 2.5 → 2
    [7n, 2n, 4n], // 3.5 → 4
    [-5n, 2n, -2n], // -2.5 → -2
    [-7n, 2n, -4n], // -3.5 → -4
    [1n, 2n, 0n], // 0.5 → 0
    [3n, 2n, 2n], // 1.5 → 2
    [10n, 4n, 2n], // 2.5 → 2
    [26n, 10n, 3n], // 2.6 → 3
    [24n, 10n, 2n], // 2.4 → 2
    [-26n, 10n, -3n],
    [-24n, 10n, -2n],
    [5n, -2n, -2n], // negative denominator
    [-5n, -2n, 2n],
    [9n, 3n, 3n], // exact
    [0n, 7n, 0n],
    [1n, 3n, 0n],
    [2n, 3n, 1n],
  ])('%s / %s → %s', (numerator, denominator, expected) => {
    expect(divideHalfEven(numerator, denominator)).toBe(expected);
  });

  it('refuses division by zero', () => {
    expect(() => divideHalfEven(1n, 0n)).toThrow(RangeError);
  });
});
