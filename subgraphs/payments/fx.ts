import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, envOptional } from '../../runtime/config';
import { badInput } from '../../runtime/errors';
import { divideHalfEven, exponentOf, INT64_MAX } from '../../runtime/money';

/**
 * Foreign exchange for cross-border payouts and USD equivalents, from a rate table file
 * (fx-rates.json: units of each currency per one USD, decimal strings). See README.md.
 *
 * A quote's rate (target units per source unit) is the ratio of the two table rates rounded
 * half-even to RATE_SCALE decimal places; that decimal is locked on the payment and the target
 * amount is computed from it exactly (BigInt), rounded half-even to the target exponent, so the
 * rate shown is exactly the rate applied.
 */
export const RATE_SCALE = 10;

/** An exact non-negative decimal: value = units / 10^scale. */
export interface ExactDecimal {
  units: bigint;
  scale: number;
}

export function parseRate(text: string): ExactDecimal {
  const match = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/.exec(text);
  if (!match) throw new ConfigError(`FX rate ${JSON.stringify(text)} is not a plain positive decimal`);
  const fraction = match[2] ?? '';
  const units = BigInt(match[1] + fraction);
  if (units === 0n) throw new ConfigError('an FX rate must be greater than zero');
  return { units, scale: fraction.length };
}

export function formatRate(rate: ExactDecimal): string {
  const digits = rate.units.toString().padStart(rate.scale + 1, '0');
  if (rate.scale === 0) return digits;
  const whole = digits.slice(0, digits.length - rate.scale);
  const fraction = digits.slice(digits.length - rate.scale).replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : whole;
}

export type RateTable = ReadonlyMap<string, ExactDecimal>;

export function loadRateTable(path = envOptional('PAYGRAPH_FX_RATES_FILE') ?? join(__dirname, 'fx-rates.json')): RateTable {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { base?: string; rates?: Record<string, string> };
  if (raw.base !== 'USD' || !raw.rates) throw new ConfigError(`${path}: expected {"base": "USD", "rates": {...}}`);
  const table = new Map<string, ExactDecimal>();
  for (const [currency, rate] of Object.entries(raw.rates)) {
    exponentOf(currency);
    if (typeof rate !== 'string') throw new ConfigError(`${path}: rate of ${currency} must be a decimal string`);
    table.set(currency, parseRate(rate));
  }
  if (table.get('USD')?.units !== 1n || table.get('USD')?.scale !== 0) throw new ConfigError(`${path}: USD must be "1"`);
  return table;
}

/** Target units per one source unit, rounded half-even to RATE_SCALE places. */
export function crossRate(table: RateTable, source: string, target: string): ExactDecimal {
  const from = table.get(source);
  const to = table.get(target);
  if (!from) throw badInput(`no FX rate for ${source}`, { field: 'currency' });
  if (!to) throw badInput(`no FX rate for ${target}`, { field: 'beneficiary.currency' });
  if (source === target) return { units: 1n, scale: 0 };
  // (to.units / 10^to.scale) / (from.units / 10^from.scale), scaled by 10^RATE_SCALE.
  const numerator = to.units * 10n ** BigInt(from.scale + RATE_SCALE);
  const denominator = from.units * 10n ** BigInt(to.scale);
  return { units: divideHalfEven(numerator, denominator), scale: RATE_SCALE };
}

/**
 * Converts `sourceMinor` of `source` into minor units of `target` at `rate` (target units per
 * source unit), exactly, rounding half-even to the target's exponent.
 */
export function convertMinor(sourceMinor: bigint, source: string, target: string, rate: ExactDecimal): bigint {
  const es = exponentOf(source);
  const et = exponentOf(target);
  // targetMinor = sourceMinor / 10^es * rate.units / 10^rate.scale * 10^et
  const numerator = sourceMinor * rate.units * 10n ** BigInt(et);
  const denominator = 10n ** BigInt(es + rate.scale);
  const result = divideHalfEven(numerator, denominator);
  if (result > INT64_MAX) throw badInput('converted amount is outside the supported range', { field: 'amount' });
  return result;
}

export interface FxQuote {
  rate: string;
  sourceMinor: bigint;
  sourceCurrency: string;
  targetMinor: bigint;
  targetCurrency: string;
  lockedAt: Date;
}

export function quote(table: RateTable, sourceMinor: bigint, source: string, target: string, now = new Date()): FxQuote {
  const rate = crossRate(table, source, target);
  const targetMinor = convertMinor(sourceMinor, source, target, rate);
  if (targetMinor <= 0n) throw badInput('the converted amount rounds to zero', { field: 'amount' });
  return { rate: formatRate(rate), sourceMinor, sourceCurrency: source, targetMinor, targetCurrency: target, lockedAt: now };
}

/** The USD equivalent in USD minor units (thresholds for risk, KYC limits and approvals). */
export function usdEquivalentMinor(table: RateTable, minor: bigint, currency: string): bigint {
  if (currency === 'USD') return minor;
  return convertMinor(minor, currency, 'USD', crossRate(table, currency, 'USD'));
}
