import { badInput } from '../../runtime/errors';
import { divideHalfEven, exponentOf, parseDecimal, toMoneyOutput } from '../../runtime/money';
import { convertMinor, crossRate, formatRate, RATE_SCALE, type ExactDecimal, type FxQuote, type RateTable } from './fx';

/**
 * Quotes for cross-currency transfers between accounts (pure). The customer's rate is the
 * table's mid rate less a spread in basis points, rounded half-even to RATE_SCALE places; the
 * destination amount is the source amount at that rate, rounded half-even to the destination
 * currency's exponent. What the customer does not receive stays with the house, split exactly
 * (rational BigInt arithmetic, nothing lost) into the spread and the rounding remainder:
 *
 *   sourceMinor × midRate = destinationMinor + spread + roundingRemainder   (destination minor units)
 */

/** Basis points in one whole: 10,000 bps = 100 %. */
const BPS = 10_000n;

export interface FxTransferSettings {
  /** The house's spread on the mid rate, in basis points (PAYGRAPH_FX_SPREAD_BPS, default 25). */
  spreadBps: number;
  /** How long a quote is promised to hold, in ms (PAYGRAPH_FX_QUOTE_TTL_MS, default 60000). */
  quoteTtlMs: number;
}

/** The quote a cross-currency transfer locks on the payment (`Payment.fx`). */
export interface FxTransferQuote extends FxQuote {
  midRate: string;
  spreadBps: number;
}

/** The exact split of the mid-rate value between the customer and the house, as decimals of the destination currency. */
export interface FxBreakdown {
  /** sourceMinor × midRate, exactly. */
  atMidRate: string;
  /** What the spread keeps for the house, exactly: sourceMinor × (midRate − rate). */
  spread: string;
  /** What half-even rounding to the destination exponent kept (positive) or gave (negative), exactly. */
  roundingRemainder: string;
}

/** The mid rate less `spreadBps`, rounded half-even to RATE_SCALE places. */
export function customerRate(mid: ExactDecimal, spreadBps: number): ExactDecimal {
  const bps = BigInt(spreadBps);
  return { units: divideHalfEven(mid.units * (BPS - bps), BPS), scale: mid.scale };
}

export function validateSpreadBps(spreadBps: number): number {
  if (!Number.isSafeInteger(spreadBps) || spreadBps < 0 || spreadBps >= 10_000) throw new RangeError('the FX spread must be 0 to 9999 basis points');
  return spreadBps;
}

/** The quote of converting `sourceMinor` of `source` into `target` for a transfer between accounts. */
export function quoteFxTransfer(table: RateTable, sourceMinor: bigint, source: string, target: string, spreadBps: number, now = new Date()): FxTransferQuote {
  exponentOf(target);
  if (source === target) throw badInput('a cross-currency quote needs two different currencies', { field: 'to' });
  const mid = crossRate(table, source, target);
  const rate = customerRate(mid, validateSpreadBps(spreadBps));
  const targetMinor = convertMinor(sourceMinor, source, target, rate);
  if (targetMinor <= 0n) throw badInput('the converted amount rounds to zero', { field: 'amount' });
  return {
    rate: formatRate(rate), midRate: formatRate(mid), spreadBps, sourceMinor, sourceCurrency: source, targetMinor, targetCurrency: target, lockedAt: now,
  };
}

/** A locked quote's rates as exact decimals (a payout's quote has no spread: its mid rate is its rate). */
function ratesOf(fx: FxQuote & Partial<FxTransferQuote>): { rate: ExactDecimal; mid: ExactDecimal } {
  const parse = (text: string): ExactDecimal => {
    const [whole, fraction = ''] = text.split('.');
    return { units: BigInt(whole + fraction), scale: fraction.length };
  };
  return { rate: parse(fx.rate), mid: parse(fx.midRate ?? fx.rate) };
}

/** Formats `numerator / 10^scale` destination minor units as an exact decimal of the destination currency. */
function exactDecimal(numerator: bigint, scale: number, currency: string): string {
  const exponent = exponentOf(currency);
  const negative = numerator < 0n;
  const digits = (negative ? -numerator : numerator).toString().padStart(scale + exponent + 1, '0');
  const totalScale = scale + exponent;
  const whole = digits.slice(0, digits.length - totalScale);
  const fraction = digits.slice(digits.length - totalScale).replace(/0+$/, '').padEnd(exponent, '0');
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && /[1-9]/.test(text) ? `-${text}` : text;
}

/**
 * The exact split of a locked quote. All three values share one denominator (10^(source
 * exponent + the rates' scale)), so the identity atMidRate = destination + spread + remainder
 * holds digit for digit.
 */
export function fxBreakdown(fx: FxQuote & Partial<FxTransferQuote>): FxBreakdown {
  const { rate, mid } = ratesOf(fx);
  const scale = exponentOf(fx.sourceCurrency) + RATE_SCALE;
  // Destination minor units × 10^scale: sourceMinor / 10^es × rate × 10^et, as convertMinor computes it.
  const lift = (r: ExactDecimal) => fx.sourceMinor * r.units * 10n ** BigInt(RATE_SCALE - r.scale + exponentOf(fx.targetCurrency));
  const atMid = lift(mid);
  const atRate = lift(rate);
  const paid = fx.targetMinor * 10n ** BigInt(scale);
  return {
    atMidRate: exactDecimal(atMid, scale, fx.targetCurrency),
    spread: exactDecimal(atMid - atRate, scale, fx.targetCurrency),
    roundingRemainder: exactDecimal(atRate - paid, scale, fx.targetCurrency),
  };
}

/** When a quote given at `quotedAt` stops being promised. */
export function quoteExpiry(quotedAt: Date, settings: FxTransferSettings): Date {
  return new Date(quotedAt.getTime() + settings.quoteTtlMs);
}


/** The GraphQL shape shared by `Payment.fx` (FxConversion) and `fxQuote` (FxQuote). */
export function fxOutput(fx: FxQuote & Partial<FxTransferQuote>) {
  const source = toMoneyOutput({ minor: fx.sourceMinor, currency: fx.sourceCurrency });
  const target = toMoneyOutput({ minor: fx.targetMinor, currency: fx.targetCurrency });
  const { spread, roundingRemainder } = fxBreakdown(fx);
  return {
    rate: fx.rate, midRate: fx.midRate ?? fx.rate, spreadBps: fx.spreadBps ?? 0,
    sourceAmount: source, targetAmount: target, destinationAmount: target,
    spread, roundingRemainder, lockedAt: fx.lockedAt,
  };
}

/** `fxQuote(amount, to)`: what a transfer of `amount` into an account holding `to` would lock now. */
export function answerFxQuote(table: RateTable, settings: FxTransferSettings, args: { amount?: unknown; to?: unknown }, now = new Date()) {
  const amountInput = (args.amount ?? {}) as { amount?: unknown; currency?: unknown };
  if (typeof amountInput.amount !== 'string' || typeof amountInput.currency !== 'string') throw badInput('amount is required', { field: 'amount' });
  if (typeof args.to !== 'string') throw badInput('to is required', { field: 'to' });
  const amount = parseDecimal(amountInput.amount, amountInput.currency);
  const quote = quoteFxTransfer(table, amount.minor, amount.currency, args.to, settings.spreadBps, now);
  return { ...fxOutput(quote), quotedAt: now, expiresAt: quoteExpiry(now, settings) };
}
