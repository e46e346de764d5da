import { loadComplianceConfig } from './config';
import { checkTierLimits, checkTravelRule, missingTravelRuleFields, startOfUtcDay, type PreScreenFacts } from './prescreen';

const config = loadComplianceConfig();
const threshold = config.travelRule.thresholdUsdMinor;
const full: PreScreenFacts = {
  customerName: 'Ada Lovelace', customerCountry: 'GB',
  beneficiaryName: 'Grace Hopper', beneficiaryCountry: 'US', beneficiaryAccountNumber: 'US12345678', beneficiaryAddress: '1 Navy Yard, Arlington',
  usdEquivalentMinor: 100_000n, crossBorder: true,
};

describe('travel rule', () => {
  it('full details pass; domestic and small payments need nothing', () => {
    expect(missingTravelRuleFields(full, threshold)).toEqual([]);
    expect(missingTravelRuleFields({ ...full, beneficiaryAddress: null, crossBorder: false }, threshold)).toEqual([]);
    expect(missingTravelRuleFields({ ...full, beneficiaryAddress: null, usdEquivalentMinor: 99_999n }, threshold)).toEqual([]);
  });
  it('names every missing field', () => {
    expect(missingTravelRuleFields({ ...full, beneficiaryAddress: ' ', beneficiaryAccountNumber: null, customerName: '' }, threshold)).toEqual(['customerName', 'beneficiary.accountNumber', 'beneficiary.address']);
    expect(() => checkTravelRule({ ...full, beneficiaryAddress: null }, threshold)).toThrow('missing beneficiary.address');
  });
  it('a transfer to our own customer needs the counterparty name', () => {
    const transfer = { ...full, beneficiaryName: null, beneficiaryCountry: null, beneficiaryAccountNumber: null, beneficiaryAddress: null, destinationAccountId: 'acc_1' };
    expect(missingTravelRuleFields({ ...transfer, counterpartyName: 'Grace Hopper' }, threshold)).toEqual([]);
    expect(missingTravelRuleFields(transfer, threshold)).toEqual(['counterpartyName']);
  });
});

describe('KYC tier limits', () => {
  const basic = config.kycTiers.BASIC;
  it('allows a payment within both limits, up to the limit exactly', () => {
    expect(() => checkTierLimits('BASIC', basic, basic.singlePaymentUsdMinor, basic.dailyTotalUsdMinor - basic.singlePaymentUsdMinor)).not.toThrow();
  });
  it('refuses one payment over the single-payment limit', () => {
    expect(() => checkTierLimits('BASIC', basic, basic.singlePaymentUsdMinor + 1n, 0n)).toThrow("exceeds the BASIC KYC tier's single-payment limit of 5000.00 USD");
  });
  it('refuses a payment that takes the day over the daily limit', () => {
    expect(() => checkTierLimits('BASIC', basic, 400_000n, 700_000n)).toThrow("would bring today's total to 11000.00 USD, over the BASIC KYC tier's daily limit of 10000.00 USD");
  });
  it('start of the UTC day', () => {
    expect(startOfUtcDay(new Date('2026-03-04T23:59:59.999Z')).toISOString()).toBe('2026-03-04T00:00:00.000Z');
  });
});
