import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envOptional, ConfigError } from '../../runtime/config';
import { exponentOf, formatMinor } from '../../runtime/money';

/**
 * The risk rules engine: pure functions from a payment (plus the account's recent history)
 * to a score, a level and a decision. The numbers live in rules.json (see README.md).
 */
export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export type RiskDecision = 'APPROVE' | 'REVIEW' | 'DECLINE';
const LEVELS: readonly RiskLevel[] = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];

export interface RiskRules {
  amountThresholds: { atOrAboveUsdMinor: bigint; points: number }[];
  velocity: { windowMinutes: number; maxCount: number; countPoints: number; maxSumUsdMinor: bigint; sumPoints: number };
  accountAge: { youngerThanHours: number; points: number }[];
  crossBorder: { points: number; highRiskCountries: string[]; highRiskPoints: number };
  roundAmount: { multipleOfMajorUnits: number; points: number };
  justUnderThreshold: { thresholdsUsdMinor: bigint[]; withinPercent: number; points: number };
  bands: { level: RiskLevel; fromScore: number }[];
  decision: { reviewFromScore: number; declineFromScore: number };
  alertLevels: RiskLevel[];
}

/** What the rules look at: the payment and the account's assessed payments in the velocity window. */
export interface PaymentFacts {
  amountMinor: bigint;
  currency: string;
  usdEquivalentMinor: bigint;
  customerCountry: string;
  counterpartyCountry?: string | null;
  crossBorder: boolean;
  accountCreatedAt: Date;
  now: Date;
  /** Earlier payments from the same source account inside the velocity window (this one excluded). */
  recent: { usdEquivalentMinor: bigint }[];
}

export interface RuleHit {
  rule: string;
  points: number;
  reason: string;
}

export interface RiskResult {
  score: number;
  level: RiskLevel;
  decision: RiskDecision;
  reasons: string[];
  hits: RuleHit[];
}

const usd = (minor: bigint) => `${formatMinor(minor, 'USD')} USD`;

function amountRule(rules: RiskRules, facts: PaymentFacts): RuleHit[] {
  // Only the highest threshold reached counts: tiers are not cumulative.
  const reached = rules.amountThresholds.filter((t) => facts.usdEquivalentMinor >= t.atOrAboveUsdMinor);
  if (reached.length === 0) return [];
  const top = reached.reduce((a, b) => (b.atOrAboveUsdMinor > a.atOrAboveUsdMinor ? b : a));
  return [{ rule: 'amount', points: top.points, reason: `amount ${usd(facts.usdEquivalentMinor)} is at or above ${usd(top.atOrAboveUsdMinor)}` }];
}

function velocityRule(rules: RiskRules, facts: PaymentFacts): RuleHit[] {
  const v = rules.velocity;
  const count = facts.recent.length + 1;
  const sum = facts.recent.reduce((total, p) => total + p.usdEquivalentMinor, facts.usdEquivalentMinor);
  const hits: RuleHit[] = [];
  if (count > v.maxCount) {
    hits.push({ rule: 'velocity.count', points: v.countPoints, reason: `${count} payments from this account within ${v.windowMinutes} minutes (more than ${v.maxCount})` });
  }
  // The sum is about several payments adding up; one large payment is the amount rule's business.
  if (facts.recent.length > 0 && sum > v.maxSumUsdMinor) {
    hits.push({ rule: 'velocity.sum', points: v.sumPoints, reason: `${usd(sum)} sent from this account within ${v.windowMinutes} minutes (more than ${usd(v.maxSumUsdMinor)})` });
  }
  return hits;
}

function accountAgeRule(rules: RiskRules, facts: PaymentFacts): RuleHit[] {
  const ageHours = (facts.now.getTime() - facts.accountCreatedAt.getTime()) / 3_600_000;
  // The youngest matching band wins (the tightest one carries the most points).
  const band = [...rules.accountAge].sort((a, b) => a.youngerThanHours - b.youngerThanHours).find((b) => ageHours < b.youngerThanHours);
  if (!band) return [];
  return [{ rule: 'accountAge', points: band.points, reason: `source account is less than ${band.youngerThanHours} hours old` }];
}

function crossBorderRule(rules: RiskRules, facts: PaymentFacts): RuleHit[] {
  if (!facts.crossBorder) return [];
  const c = rules.crossBorder;
  const hits: RuleHit[] = [{ rule: 'crossBorder', points: c.points, reason: `cross-border payment ${facts.customerCountry} → ${facts.counterpartyCountry ?? 'unknown'}` }];
  const risky = [facts.counterpartyCountry, facts.customerCountry].filter((country): country is string => !!country && c.highRiskCountries.includes(country.toUpperCase()));
  if (risky.length > 0) {
    hits.push({ rule: 'crossBorder.highRiskCountry', points: c.highRiskPoints, reason: `cross-border payment involving high-risk country ${[...new Set(risky)].join(', ')}` });
  }
  return hits;
}

function roundAmountRule(rules: RiskRules, facts: PaymentFacts): RuleHit[] {
  const unit = 10n ** BigInt(exponentOf(facts.currency)) * BigInt(rules.roundAmount.multipleOfMajorUnits);
  if (unit <= 0n || facts.amountMinor <= 0n || facts.amountMinor % unit !== 0n) return [];
  return [{ rule: 'roundAmount', points: rules.roundAmount.points, reason: `round amount ${formatMinor(facts.amountMinor, facts.currency)} ${facts.currency}` }];
}

function justUnderThresholdRule(rules: RiskRules, facts: PaymentFacts): RuleHit[] {
  const j = rules.justUnderThreshold;
  const hit = j.thresholdsUsdMinor.find((t) => facts.usdEquivalentMinor < t && facts.usdEquivalentMinor * 100n >= t * BigInt(100 - j.withinPercent));
  if (hit === undefined) return [];
  return [{ rule: 'justUnderThreshold', points: j.points, reason: `amount ${usd(facts.usdEquivalentMinor)} is just under the ${usd(hit)} threshold` }];
}

export const RULES = [amountRule, velocityRule, accountAgeRule, crossBorderRule, roundAmountRule, justUnderThresholdRule];

export function clampScore(points: number): number {
  return Math.max(0, Math.min(100, Math.round(points)));
}

export function levelFor(rules: RiskRules, score: number): RiskLevel {
  let level: RiskLevel = 'LOW';
  for (const band of [...rules.bands].sort((a, b) => a.fromScore - b.fromScore)) if (score >= band.fromScore) level = band.level;
  return level;
}

export function decisionFor(rules: RiskRules, score: number): RiskDecision {
  if (score >= rules.decision.declineFromScore) return 'DECLINE';
  if (score >= rules.decision.reviewFromScore) return 'REVIEW';
  return 'APPROVE';
}

export function assessRisk(rules: RiskRules, facts: PaymentFacts): RiskResult {
  const hits = RULES.flatMap((rule) => rule(rules, facts));
  const score = clampScore(hits.reduce((total, hit) => total + hit.points, 0));
  return { score, level: levelFor(rules, score), decision: decisionFor(rules, score), reasons: hits.map((h) => h.reason), hits };
}

export function shouldAlert(rules: RiskRules, level: RiskLevel): boolean {
  return rules.alertLevels.includes(level);
}

// --- loading and validating rules.json -------------------------------------------------

function fail(path: string, problem: string): never {
  throw new ConfigError(`risk rules: ${path} ${problem}`);
}
function num(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) fail(path, `must be a number ≥ ${min}`);
  return value;
}
function minor(value: unknown, path: string): bigint {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value)) fail(path, 'must be a string of digits (USD minor units)');
  return BigInt(value);
}
function level(value: unknown, path: string): RiskLevel {
  if (!LEVELS.includes(value as RiskLevel)) fail(path, `must be one of ${LEVELS.join(' ')}`);
  return value as RiskLevel;
}
function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'must be an array');
  return value;
}

/** Validates the JSON form of the rules (money as digit strings) into typed rules. */
export function parseRules(raw: any): RiskRules {
  if (typeof raw !== 'object' || raw === null) fail('', 'must be an object');
  const rules: RiskRules = {
    amountThresholds: list(raw.amountThresholds, 'amountThresholds').map((t: any, i) => ({
      atOrAboveUsdMinor: minor(t?.atOrAboveUsdMinor, `amountThresholds[${i}].atOrAboveUsdMinor`),
      points: num(t?.points, `amountThresholds[${i}].points`),
    })),
    velocity: {
      windowMinutes: num(raw.velocity?.windowMinutes, 'velocity.windowMinutes', 1),
      maxCount: num(raw.velocity?.maxCount, 'velocity.maxCount', 1),
      countPoints: num(raw.velocity?.countPoints, 'velocity.countPoints'),
      maxSumUsdMinor: minor(raw.velocity?.maxSumUsdMinor, 'velocity.maxSumUsdMinor'),
      sumPoints: num(raw.velocity?.sumPoints, 'velocity.sumPoints'),
    },
    accountAge: list(raw.accountAge, 'accountAge').map((a: any, i) => ({
      youngerThanHours: num(a?.youngerThanHours, `accountAge[${i}].youngerThanHours`, 1),
      points: num(a?.points, `accountAge[${i}].points`),
    })),
    crossBorder: {
      points: num(raw.crossBorder?.points, 'crossBorder.points'),
      highRiskCountries: list(raw.crossBorder?.highRiskCountries, 'crossBorder.highRiskCountries').map((c, i) => {
        if (typeof c !== 'string' || !/^[A-Z]{2}$/.test(c)) fail(`crossBorder.highRiskCountries[${i}]`, 'must be an ISO 3166-1 alpha-2 code');
        return c;
      }),
      highRiskPoints: num(raw.crossBorder?.highRiskPoints, 'crossBorder.highRiskPoints'),
    },
    roundAmount: {
      multipleOfMajorUnits: num(raw.roundAmount?.multipleOfMajorUnits, 'roundAmount.multipleOfMajorUnits', 1),
      points: num(raw.roundAmount?.points, 'roundAmount.points'),
    },
    justUnderThreshold: {
      thresholdsUsdMinor: list(raw.justUnderThreshold?.thresholdsUsdMinor, 'justUnderThreshold.thresholdsUsdMinor').map((t, i) => minor(t, `justUnderThreshold.thresholdsUsdMinor[${i}]`)),
      withinPercent: num(raw.justUnderThreshold?.withinPercent, 'justUnderThreshold.withinPercent'),
      points: num(raw.justUnderThreshold?.points, 'justUnderThreshold.points'),
    },
    bands: list(raw.bands, 'bands').map((b: any, i) => ({ level: level(b?.level, `bands[${i}].level`), fromScore: num(b?.fromScore, `bands[${i}].fromScore`) })),
    decision: {
      reviewFromScore: num(raw.decision?.reviewFromScore, 'decision.reviewFromScore'),
      declineFromScore: num(raw.decision?.declineFromScore, 'decision.declineFromScore'),
    },
    alertLevels: list(raw.alertLevels ?? ['HIGH', 'CRITICAL'], 'alertLevels').map((l, i) => level(l, `alertLevels[${i}]`)),
  };
  if (rules.justUnderThreshold.withinPercent > 100) fail('justUnderThreshold.withinPercent', 'must be at most 100');
  if (rules.decision.reviewFromScore > rules.decision.declineFromScore) fail('decision', 'reviewFromScore must not exceed declineFromScore');
  return rules;
}

/** Reads the rules from RISK_RULES_PATH, or rules.json beside this file. */
export function loadRules(path = envOptional('RISK_RULES_PATH') ?? join(__dirname, 'rules.json')): RiskRules {
  return parseRules(JSON.parse(readFileSync(path, 'utf8')));
}
