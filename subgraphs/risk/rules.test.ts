import { assessRisk, clampScore, decisionFor, levelFor, loadRules, parseRules, type PaymentFacts } from './rules';

const rules = loadRules();
const now = new Date('2026-03-01T12:00:00.000Z');
const oldAccount = new Date('2025-01-01T00:00:00.000Z');

function facts(overrides: Partial<PaymentFacts> = {}): PaymentFacts {
  return {
    amountMinor: 5_025n,
    currency: 'USD',
    usdEquivalentMinor: 5_025n,
    customerCountry: 'US',
    counterpartyCountry: 'US',
    crossBorder: false,
    accountCreatedAt: oldAccount,
    now,
    recent: [],
    ...overrides,
  };
}

describe('risk rules', () => {
  it('approves a small domestic payment from an old account with no reasons', () => {
    expect(assessRisk(rules, facts())).toMatchObject({ score: 0, level: 'LOW', decision: 'APPROVE', reasons: [] });
  });

  it.each([
    ['10,000 USD tier', 1_000_050n, 20],
    ['50,000 USD tier', 5_000_050n, 40],
    ['100,000 USD tier (only the highest tier counts)', 12_034_567n, 70],
  ])('amount threshold: %s', (_name, usdMinor, points) => {
    const result = assessRisk(rules, facts({ amountMinor: usdMinor, usdEquivalentMinor: usdMinor }));
    expect(result.score).toBe(points);
    expect(result.hits.map((h) => h.rule)).toEqual(['amount']);
  });

  it('velocity: count and sum in the window both add points', () => {
    const recent = Array.from({ length: 5 }, () => ({ usdEquivalentMinor: 400_050n }));
    const result = assessRisk(rules, facts({ amountMinor: 400_050n, usdEquivalentMinor: 400_050n, recent }));
    expect(result.hits.map((h) => h.rule)).toEqual(['velocity.count', 'velocity.sum']);
    expect(result.score).toBe(65);
    expect(result.decision).toBe('REVIEW');
    expect(result.reasons[0]).toBe('6 payments from this account within 60 minutes (more than 5)');
    expect(result.reasons[1]).toBe('24003.00 USD sent from this account within 60 minutes (more than 20000.00 USD)');
  });

  it('velocity: five payments in the window are fine', () => {
    const recent = Array.from({ length: 4 }, () => ({ usdEquivalentMinor: 1_000n }));
    expect(assessRisk(rules, facts({ recent })).score).toBe(0);
  });

  it('account age: the youngest band wins', () => {
    expect(assessRisk(rules, facts({ accountCreatedAt: new Date(now.getTime() - 3_600_000) })).score).toBe(20);
    expect(assessRisk(rules, facts({ accountCreatedAt: new Date(now.getTime() - 72 * 3_600_000) })).score).toBe(10);
  });

  it('a cross-border payment to a high-risk country declines', () => {
    const result = assessRisk(rules, facts({ crossBorder: true, counterpartyCountry: 'IR' }));
    expect(result).toMatchObject({ score: 85, level: 'CRITICAL', decision: 'DECLINE' });
    expect(result.reasons).toContain('cross-border payment involving high-risk country IR');
  });

  it('a cross-border payment to an ordinary country adds a little', () => {
    expect(assessRisk(rules, facts({ crossBorder: true, counterpartyCountry: 'DE' })).score).toBe(5);
  });

  it('round amounts count in the payment currency', () => {
    expect(assessRisk(rules, facts({ amountMinor: 200_000n, usdEquivalentMinor: 200_000n })).hits.map((h) => h.rule)).toEqual(['roundAmount']);
    // 5,000 JPY (exponent 0) is round; 5,000.01 EUR is not.
    expect(assessRisk(rules, facts({ amountMinor: 5_000n, currency: 'JPY', usdEquivalentMinor: 3_300n })).hits.map((h) => h.rule)).toEqual(['roundAmount']);
    expect(assessRisk(rules, facts({ amountMinor: 500_001n, currency: 'EUR', usdEquivalentMinor: 540_000n })).hits).toEqual([]);
  });

  it('just under a threshold', () => {
    const result = assessRisk(rules, facts({ amountMinor: 990_050n, usdEquivalentMinor: 990_050n }));
    expect(result.hits.map((h) => h.rule)).toEqual(['justUnderThreshold']);
    expect(result.reasons[0]).toBe('amount 9900.50 USD is just under the 10000.00 USD threshold');
    expect(assessRisk(rules, facts({ amountMinor: 880_050n, usdEquivalentMinor: 880_050n })).hits).toEqual([]);
  });

  it('clamps the score to 0..100', () => {
    expect(clampScore(-5)).toBe(0);
    expect(clampScore(250)).toBe(100);
    const result = assessRisk(rules, facts({ amountMinor: 20_000_000n, usdEquivalentMinor: 20_000_000n, crossBorder: true, counterpartyCountry: 'KP', accountCreatedAt: now }));
    expect(result.score).toBe(100);
  });

  it.each([
    [0, 'LOW', 'APPROVE'],
    [29, 'LOW', 'APPROVE'],
    [30, 'MEDIUM', 'APPROVE'],
    [64, 'MEDIUM', 'APPROVE'],
    [65, 'HIGH', 'REVIEW'],
    [74, 'HIGH', 'REVIEW'],
    [75, 'HIGH', 'DECLINE'],
    [85, 'CRITICAL', 'DECLINE'],
    [100, 'CRITICAL', 'DECLINE'],
  ])('score %i → %s, %s', (score, level, decision) => {
    expect(levelFor(rules, score)).toBe(level);
    expect(decisionFor(rules, score)).toBe(decision);
  });

  it('rejects invalid rule files with the field named', () => {
    const raw = JSON.parse(JSON.stringify(require('./rules.json')));
    raw.velocity.maxSumUsdMinor = 20000;
    expect(() => parseRules(raw)).toThrow('velocity.maxSumUsdMinor');
    raw.velocity.maxSumUsdMinor = '1';
    raw.bands[0].level = 'EXTREME';
    expect(() => parseRules(raw)).toThrow('bands[0].level');
  });
});
