import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, envInt, envOptional } from '../../runtime/config';
import type { ScreeningSettings } from './matcher';

export const KYC_TIERS = ['NONE', 'BASIC', 'VERIFIED', 'ENHANCED'] as const;
export type KycTier = (typeof KYC_TIERS)[number];

export interface TierLimits {
  singlePaymentUsdMinor: bigint;
  dailyTotalUsdMinor: bigint;
}

export interface AmlSettings {
  structuring: { reportingThresholdUsdMinor: bigint; fromPercent: number; minPayments: number; windowHours: number };
  rapidMovement: { windowHours: number; outboundPercent: number };
}

/** Compliance's one typed config: compliance.json (or COMPLIANCE_CONFIG_PATH) plus env overrides. */
export interface ComplianceConfig {
  kycTiers: Record<KycTier, TierLimits>;
  travelRule: { thresholdUsdMinor: bigint };
  sanctions: ScreeningSettings;
  aml: AmlSettings;
  /**
   * How long prescreening trusts a KYC profile it read, in ms: a tier change saved through this
   * process counts at once, one saved through another within this. 0 reads it per payment.
   * compliance.json `kyc.profileCacheMs`, default 5000.
   */
  kycProfileCacheMs: number;
  /** Folder holding sdn.csv and alt.csv. Env COMPLIANCE_SANCTIONS_DIR; default ./sanctions-data. */
  sanctionsDir: string;
  /** Payment-event audit poll interval in ms; 0 turns the poller off. Env COMPLIANCE_AUDIT_POLL_MS. */
  paymentEventsPollMs: number;
  paymentEventsBatch: number;
}

function fail(path: string, problem: string): never {
  throw new ConfigError(`compliance config: ${path} ${problem}`);
}
function num(value: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) fail(path, `must be a number between ${min} and ${max}`);
  return value;
}
function minor(value: unknown, path: string): bigint {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value)) fail(path, 'must be a string of digits (USD minor units)');
  return BigInt(value);
}

export function parseComplianceConfig(raw: any, env: { sanctionsDir?: string; pollMs?: number } = {}): ComplianceConfig {
  if (typeof raw !== 'object' || raw === null) fail('', 'must be an object');
  const kycTiers = {} as Record<KycTier, TierLimits>;
  for (const tier of KYC_TIERS) {
    const limits = raw.kycTiers?.[tier];
    kycTiers[tier] = {
      singlePaymentUsdMinor: minor(limits?.singlePaymentUsdMinor, `kycTiers.${tier}.singlePaymentUsdMinor`),
      dailyTotalUsdMinor: minor(limits?.dailyTotalUsdMinor, `kycTiers.${tier}.dailyTotalUsdMinor`),
    };
  }
  const s = raw.sanctions ?? {};
  if (!Array.isArray(s.commonTokens) || s.commonTokens.some((t: unknown) => typeof t !== 'string')) fail('sanctions.commonTokens', 'must be an array of strings');
  const sanctions: ScreeningSettings = {
    potentialMatchThreshold: num(s.potentialMatchThreshold, 'sanctions.potentialMatchThreshold', 0, 1),
    blockThreshold: num(s.blockThreshold, 'sanctions.blockThreshold', 0, 1),
    tokenAgreement: num(s.tokenAgreement, 'sanctions.tokenAgreement', 0, 1),
    missingTokenPenalty: num(s.missingTokenPenalty, 'sanctions.missingTokenPenalty', 0, 1),
    commonOnlyCap: num(s.commonOnlyCap, 'sanctions.commonOnlyCap', 0, 1),
    maxMatches: num(s.maxMatches, 'sanctions.maxMatches', 1, 100),
    commonTokens: new Set((s.commonTokens as string[]).map((t) => t.toLowerCase())),
  };
  if (sanctions.blockThreshold < sanctions.potentialMatchThreshold) fail('sanctions.blockThreshold', 'must not be below potentialMatchThreshold');
  const st = raw.aml?.structuring ?? {};
  const rm = raw.aml?.rapidMovement ?? {};
  return {
    kycTiers,
    travelRule: { thresholdUsdMinor: minor(raw.travelRule?.thresholdUsdMinor, 'travelRule.thresholdUsdMinor') },
    sanctions,
    aml: {
      structuring: {
        reportingThresholdUsdMinor: minor(st.reportingThresholdUsdMinor, 'aml.structuring.reportingThresholdUsdMinor'),
        fromPercent: num(st.fromPercent, 'aml.structuring.fromPercent', 0, 100),
        minPayments: num(st.minPayments, 'aml.structuring.minPayments', 2),
        windowHours: num(st.windowHours, 'aml.structuring.windowHours', 1),
      },
      rapidMovement: {
        windowHours: num(rm.windowHours, 'aml.rapidMovement.windowHours', 1),
        outboundPercent: num(rm.outboundPercent, 'aml.rapidMovement.outboundPercent', 1, 100),
      },
    },
    kycProfileCacheMs: num(raw.kyc?.profileCacheMs ?? 5000, 'kyc.profileCacheMs', 0, 3_600_000),
    sanctionsDir: env.sanctionsDir ?? join(__dirname, 'sanctions-data'),
    paymentEventsPollMs: env.pollMs ?? num(raw.audit?.paymentEventsPollMs ?? 1000, 'audit.paymentEventsPollMs'),
    paymentEventsBatch: num(raw.audit?.paymentEventsBatch ?? 100, 'audit.paymentEventsBatch', 1, 1000),
  };
}

export function loadComplianceConfig(): ComplianceConfig {
  const path = envOptional('COMPLIANCE_CONFIG_PATH') ?? join(__dirname, 'compliance.json');
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  const poll = envOptional('COMPLIANCE_AUDIT_POLL_MS');
  return parseComplianceConfig(raw, {
    sanctionsDir: envOptional('COMPLIANCE_SANCTIONS_DIR'),
    pollMs: poll === undefined ? undefined : envInt('COMPLIANCE_AUDIT_POLL_MS', 1000, { min: 0, max: 3_600_000 }),
  });
}
