import { ErrorCode, PaygraphError, badInput } from '../../runtime/errors';
import { formatMinor } from '../../runtime/money';
import type { KycTier, TierLimits } from './config';

/** The rules checked before a payment is stored, pure: the travel rule and KYC tier limits. */
export interface PreScreenFacts {
  customerName: string;
  customerCountry: string;
  beneficiaryName?: string | null;
  beneficiaryCountry?: string | null;
  beneficiaryAccountNumber?: string | null;
  beneficiaryAddress?: string | null;
  counterpartyName?: string | null;
  destinationAccountId?: string | null;
  usdEquivalentMinor: bigint;
  crossBorder: boolean;
}

const usd = (minor: bigint) => `${formatMinor(minor, 'USD')} USD`;
const blank = (value: string | null | undefined) => value === null || value === undefined || value.trim() === '';

/**
 * Cross-border at or above the threshold needs full originator and beneficiary details.
 * Transfers to one of our own customers' accounts carry the beneficiary as the counterparty:
 * we hold its account, so name and country are what the rule needs from the input.
 */
export function missingTravelRuleFields(facts: PreScreenFacts, thresholdUsdMinor: bigint): string[] {
  if (!facts.crossBorder || facts.usdEquivalentMinor < thresholdUsdMinor) return [];
  const missing: string[] = [];
  if (blank(facts.customerName)) missing.push('customerName');
  if (blank(facts.customerCountry)) missing.push('customerCountry');
  const internalTransfer = !blank(facts.destinationAccountId) && blank(facts.beneficiaryName);
  if (internalTransfer) {
    if (blank(facts.counterpartyName)) missing.push('counterpartyName');
    return missing;
  }
  if (blank(facts.beneficiaryName)) missing.push('beneficiary.name');
  if (blank(facts.beneficiaryCountry)) missing.push('beneficiary.country');
  if (blank(facts.beneficiaryAccountNumber)) missing.push('beneficiary.accountNumber');
  if (blank(facts.beneficiaryAddress)) missing.push('beneficiary.address');
  return missing;
}

export function checkTravelRule(facts: PreScreenFacts, thresholdUsdMinor: bigint): void {
  const missing = missingTravelRuleFields(facts, thresholdUsdMinor);
  if (missing.length === 0) return;
  throw badInput(`travel rule: a cross-border payment of ${usd(thresholdUsdMinor)} or more needs full originator and beneficiary details; missing ${missing.join(', ')}`, {
    field: missing[0],
    missingFields: missing,
  });
}

/** LIMIT_EXCEEDED when the payment alone, or with today's earlier payments, is over the tier's limits. */
export function checkTierLimits(tier: KycTier, limits: TierLimits, usdEquivalentMinor: bigint, todayTotalUsdMinor: bigint): void {
  if (usdEquivalentMinor > limits.singlePaymentUsdMinor) {
    throw new PaygraphError(
      ErrorCode.LIMIT_EXCEEDED,
      `payment of ${usd(usdEquivalentMinor)} exceeds the ${tier} KYC tier's single-payment limit of ${usd(limits.singlePaymentUsdMinor)}`,
      { limit: 'singlePayment', tier, limitUsdMinor: limits.singlePaymentUsdMinor.toString() },
    );
  }
  const total = todayTotalUsdMinor + usdEquivalentMinor;
  if (total > limits.dailyTotalUsdMinor) {
    throw new PaygraphError(
      ErrorCode.LIMIT_EXCEEDED,
      `payment of ${usd(usdEquivalentMinor)} would bring today's total to ${usd(total)}, over the ${tier} KYC tier's daily limit of ${usd(limits.dailyTotalUsdMinor)}`,
      { limit: 'dailyTotal', tier, limitUsdMinor: limits.dailyTotalUsdMinor.toString() },
    );
  }
}

export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}
