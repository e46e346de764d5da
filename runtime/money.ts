import { badInput } from './errors';
import { CURRENCY_EXPONENTS } from './currencies';

/**
 * Money is an integer count of minor units (BigInt) and a currency. No floating point
 * touches an amount: `Decimal` strings are parsed digit by digit and formatted back the same way.
 */
export interface Money {
  readonly minor: bigint;
  readonly currency: string;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

const DECIMAL_PATTERN = /^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/** The number of minor-unit digits of `currency`, or BAD_USER_INPUT for an unknown code. */
export function exponentOf(currency: string): number {
  const exponent = typeof currency === 'string' ? CURRENCY_EXPONENTS.get(currency) : undefined;
  if (exponent === undefined) {
    throw badInput(`unknown currency ${JSON.stringify(currency)}: expected an active ISO 4217 code`, {
      field: 'currency',
    });
  }
  return exponent;
}

export interface ParseOptions {
  /** Allow a leading minus sign (ledger adjustments). Payment amounts never allow it. */
  allowNegative?: boolean;
  /** Allow zero. Payment amounts must be positive. */
  allowZero?: boolean;
}

/**
 * Parses a `Decimal` string exactly into minor units of `currency`. Rejects blanks,
 * exponents, a plus sign, leading zeros, more fraction digits than the currency has, a sign
 * where not allowed, and anything outside signed 64-bit range.
 */
export function parseDecimal(amount: string, currency: string, options: ParseOptions = {}): Money {
  const exponent = exponentOf(currency);
  if (typeof amount !== 'string') throw badInput('amount must be a decimal string', { field: 'amount' });
  const match = DECIMAL_PATTERN.exec(amount);
  if (!match) {
    throw badInput(`amount ${JSON.stringify(amount)} is not a plain decimal number like "125.50"`, { field: 'amount' });
  }
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > exponent) {
    throw badInput(`${currency} has ${exponent} decimal places; ${JSON.stringify(amount)} has ${fraction.length}`, {
      field: 'amount',
    });
  }
  const digits = whole + fraction.padEnd(exponent, '0');
  const magnitude = BigInt(digits);
  const minor = sign ? -magnitude : magnitude;
  if (minor < INT64_MIN || minor > INT64_MAX) {
    throw badInput(`amount ${JSON.stringify(amount)} is outside the supported range`, { field: 'amount' });
  }
  if (sign && magnitude !== 0n && !options.allowNegative) {
    throw badInput('amount must not be negative', { field: 'amount' });
  }
  if (magnitude === 0n && !options.allowZero) throw badInput('amount must be greater than zero', { field: 'amount' });
  return { minor: sign && magnitude === 0n ? 0n : minor, currency };
}

/** Formats minor units as a `Decimal` string with exactly the currency's decimal places. */
export function formatMinor(minor: bigint, currency: string): string {
  const exponent = exponentOf(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return (negative ? '-' : '') + whole + (exponent > 0 ? '.' + fraction : '');
}

/** The GraphQL `Money` shape of API.md. */
export function toMoneyOutput(money: Money): { amount: string; currency: string; minorUnits: string } {
  return { amount: formatMinor(money.minor, money.currency), currency: money.currency, minorUnits: money.minor.toString() };
}

export function money(minor: bigint, currency: string): Money {
  exponentOf(currency);
  return { minor, currency };
}

function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) throw badInput(`currency mismatch: ${a.currency} and ${b.currency}`, { field: 'currency' });
}

function checked(minor: bigint): bigint {
  if (minor < INT64_MIN || minor > INT64_MAX) throw badInput('amount overflows the supported range', { field: 'amount' });
  return minor;
}

export function addMoney(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return { minor: checked(a.minor + b.minor), currency: a.currency };
}

export function subtractMoney(a: Money, b: Money): Money {
  assertSameCurrency(a, b);
  return { minor: checked(a.minor - b.minor), currency: a.currency };
}

export function compareMoney(a: Money, b: Money): -1 | 0 | 1 {
  assertSameCurrency(a, b);
  return a.minor < b.minor ? -1 : a.minor > b.minor ? 1 : 0;
}

/**
 * Divides `numerator / denominator` rounding half to even (banker's rounding), the rule we
 * use for FX conversion: it has no upward bias over many conversions.
 */
export function divideHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const negative = numerator < 0n;
  const n = negative ? -numerator : numerator;
  let quotient = n / denominator;
  const twiceRemainder = (n % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) quotient += 1n;
  return negative ? -quotient : quotient;
}
