import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { ErrorCode, PaygraphError, badInput, forbidden, notFound } from '../../runtime/errors';
import { hasScope, serviceIdentity, type Identity } from '../../runtime/identity';
import { InternalClient } from '../../runtime/internal-client';
import { detectRapidMovement, detectStructuring, isCovered, type AmlFinding, type ScreenedPayment } from './aml';
import { ChainVerifier, type ChainVerification } from './audit-chain';
import { KYC_TIERS, type ComplianceConfig, type KycTier } from './config';
import { normaliseName, screenTokens, statusForMatches, type ListedParty, type NameMatch } from './matcher';
import { checkTierLimits, checkTravelRule, startOfUtcDay } from './prescreen';
import { amlCaseKey, checkIdFor, newId, type AmlCaseRecord, type ComplianceCheckRecord, type ComplianceRepository, type KycProfileRecord, type SanctionsMatchRecord } from './repository';

export interface PaymentScreeningInput {
  paymentId: string;
  customerId: string;
  customerName: string;
  customerCountry: string;
  sourceAccountId: string;
  destinationAccountId?: string | null;
  beneficiaryName?: string | null;
  beneficiaryCountry?: string | null;
  beneficiaryAccountNumber?: string | null;
  beneficiaryAddress?: string | null;
  counterpartyCustomerId?: string | null;
  counterpartyName?: string | null;
  amountMinor: bigint;
  currency: string;
  usdEquivalentMinor: bigint;
  crossBorder: boolean;
}

export interface SubmitKycInput {
  customerId: string;
  tier: KycTier;
  details?: Record<string, string | null | undefined> | null;
}

/** The profile of a customer that never submitted KYC. */
export function defaultProfile(customerId: string): KycProfileRecord {
  return { _id: customerId, tier: 'NONE', status: 'UNVERIFIED', requestedTier: null, details: null, updatedAt: new Date(0) };
}

const CONTINUE_PAYMENT = `mutation ContinuePayment($id: ID!) { continuePayment(id: $id) { id } }`;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function parseId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw badInput(`${field} is not a valid id`, { field });
  return value;
}

function optionalText(value: unknown, field: string, max = 300): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' || value.length > max) throw badInput(`${field} must be a string of at most ${max} characters`, { field });
  return value;
}

/** Compliance's use cases. Every decision is appended to the audit trail. */
export class ComplianceService {
  /** Sanctions matches by normalised name: the list is fixed for the process, and names recur. */
  private readonly matchesByName = new LRUCache<string, NameMatch[]>({ max: 10_000 });

  constructor(
    readonly repository: ComplianceRepository,
    readonly config: ComplianceConfig,
    private readonly sanctions: readonly ListedParty[],
    private readonly log: Logger,
    private readonly payments: InternalClient = new InternalClient(serviceIdentity('compliance')),
    private readonly clock: () => Date = () => new Date(),
  ) {}

  limitsFor(tier: KycTier) {
    return this.config.kycTiers[tier];
  }

  // --- KYC -----------------------------------------------------------------------------

  async submitKyc(identity: Identity, input: SubmitKycInput): Promise<KycProfileRecord> {
    const customerId = parseId(input.customerId, 'customerId');
    if (!KYC_TIERS.includes(input.tier)) throw badInput('tier is not a KYC tier', { field: 'tier' });
    const details = input.details
      ? Object.fromEntries(
          Object.entries({
            documentType: optionalText(input.details.documentType, 'details.documentType', 50),
            documentNumber: optionalText(input.details.documentNumber, 'details.documentNumber', 100),
            dateOfBirth: optionalText(input.details.dateOfBirth, 'details.dateOfBirth', 20),
            address: optionalText(input.details.address, 'details.address', 300),
          }).filter((entry): entry is [string, string] => entry[1] !== null),
        )
      : null;
    const current = (await this.repository.profileFor(customerId)) ?? defaultProfile(customerId);
    const now = this.clock();
    let profile: KycProfileRecord;
    if (identity.customerId === undefined && hasScope(identity, 'compliance:review')) {
      profile = { ...current, tier: input.tier, status: 'VERIFIED', requestedTier: null, details: details ?? current.details, updatedAt: now };
    } else if (identity.customerId !== undefined) {
      if (identity.customerId !== customerId) throw notFound('customer', customerId);
      profile = { ...current, status: 'PENDING', requestedTier: input.tier, details: details ?? current.details, updatedAt: now };
    } else {
      throw forbidden('submitKyc needs compliance:review, or a customer token for its own customer');
    }
    await this.repository.saveProfile(profile);
    await this.audit(`kyc:${newId('evt')}`, profile.status === 'PENDING' ? 'KYC_SUBMITTED' : 'KYC_GRANTED', {
      customerId, by: identity.subject, tier: profile.tier, status: profile.status, requestedTier: profile.requestedTier,
    });
    return profile;
  }

  async reviewKyc(reviewer: string, customerIdInput: string, approve: boolean, note: string | null): Promise<KycProfileRecord> {
    const customerId = parseId(customerIdInput, 'customerId');
    const current = await this.repository.profileFor(customerId);
    if (!current || current.status !== 'PENDING' || !current.requestedTier) {
      throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `customer ${customerId} has no pending KYC request`);
    }
    const profile: KycProfileRecord = approve
      ? { ...current, tier: current.requestedTier, status: 'VERIFIED', requestedTier: null, updatedAt: this.clock() }
      : { ...current, status: 'REJECTED', requestedTier: null, updatedAt: this.clock() };
    await this.repository.saveProfile(profile);
    await this.audit(`kyc:${newId('evt')}`, approve ? 'KYC_APPROVED' : 'KYC_REJECTED', { customerId, by: reviewer, tier: profile.tier, requestedTier: current.requestedTier, note });
    return profile;
  }

  // --- payments ------------------------------------------------------------------------

  /** Before a payment is stored: the travel rule, then the customer's tier limits. */
  async preScreenPayment(input: PaymentScreeningInput): Promise<true> {
    validateScreeningInput(input);
    const now = this.clock();
    try {
      checkTravelRule(input, this.config.travelRule.thresholdUsdMinor);
      const [profile, today] = await Promise.all([
        this.repository.recentProfileFor(input.customerId),
        this.repository.totalSentSince(input.customerId, startOfUtcDay(now), input.paymentId),
      ]);
      const tier = (profile ?? defaultProfile(input.customerId)).tier;
      checkTierLimits(tier, this.limitsFor(tier), input.usdEquivalentMinor, today);
    } catch (error) {
      if (error instanceof PaygraphError) {
        await this.audit(`prescreen:${input.paymentId}:refused:${error.code}`, 'PAYMENT_PRESCREEN_REFUSED', {
          paymentId: input.paymentId, customerId: input.customerId, code: error.code, reason: error.message, usdEquivalentMinor: input.usdEquivalentMinor,
        });
      }
      throw error;
    }
    await this.repository.recordPrescreened(toScreenedPayment(input, now));
    await this.audit(`prescreen:${input.paymentId}:passed`, 'PAYMENT_PRESCREEN_PASSED', { paymentId: input.paymentId, customerId: input.customerId, usdEquivalentMinor: input.usdEquivalentMinor });
    return true;
  }

  /**
   * Sanctions screening and AML monitoring of a stored payment, once. The check is inserted
   * first (the unique index keeps the first one; a retry reads it back); every step after it
   * is idempotent and runs on a retry too, so a crash midway is finished by the retry. The
   * screening and any cases it opens are audited together, in that order.
   */
  async screenPayment(input: PaymentScreeningInput): Promise<ComplianceCheckRecord> {
    validateScreeningInput(input);
    const now = this.clock();
    const matches = this.screenParties(input);
    const [check] = await Promise.all([
      this.repository.insertCheck({
        _id: checkIdFor(input.paymentId),
        paymentId: input.paymentId,
        customerId: input.customerId,
        status: statusForMatches(matches, this.config.sanctions),
        matches,
        checkedAt: now,
        resolution: null,
      }),
      // Marked before AML reads: of two payments screened at once, the later read sees both.
      this.repository.markScreened(toScreenedPayment(input, now)),
    ]);
    const opened = await this.monitorAml(input.customerId, now, input.paymentId);
    await this.repository.appendAudits([
      { key: `screening:${input.paymentId}`, kind: 'SANCTIONS_SCREENING', data: { paymentId: input.paymentId, customerId: input.customerId, status: check.status, matches: check.matches }, at: check.checkedAt },
      ...opened.map((record) => ({
        key: `aml:${record.dedupeKey}`,
        kind: 'AML_CASE_OPENED',
        data: { caseId: record._id, customerId: record.customerId, kind: record.kind, paymentIds: record.paymentIds, description: record.description },
        at: record.openedAt,
      })),
    ]);
    return check;
  }

  private screenParties(input: PaymentScreeningInput): SanctionsMatchRecord[] {
    const parties: [string | null | undefined, SanctionsMatchRecord['party']][] = [
      [input.customerName, 'CUSTOMER'],
      [input.beneficiaryName, 'BENEFICIARY'],
      [input.counterpartyName, 'BENEFICIARY'],
    ];
    const matches = parties.flatMap(([name, party]) => (name ? this.matchesFor(name).map((m) => ({ ...m, party })) : []));
    return matches.sort((a, b) => b.score - a.score).slice(0, this.config.sanctions.maxMatches);
  }

  private matchesFor(name: string): NameMatch[] {
    const tokens = normaliseName(name);
    const key = tokens.join(' ');
    let matches = this.matchesByName.get(key);
    if (!matches) {
      matches = screenTokens(tokens, this.sanctions, this.config.sanctions);
      this.matchesByName.set(key, matches);
    }
    return matches;
  }

  /**
   * Runs the AML rules for a customer and opens the cases not yet open. Given the payment
   * just screened, only patterns that payment takes part in are considered: monitoring runs
   * on every payment, so older patterns were judged when their own payments came in.
   * Returns the cases for the caller to audit: those it opened, and those exactly these
   * findings opened before (a retry after a crash between a case and its audit record; the
   * record is appended once by its key).
   */
  async monitorAml(customerId: string, now: Date, paymentId?: string): Promise<AmlCaseRecord[]> {
    const { structuring, rapidMovement } = this.config.aml;
    const lookbackHours = Math.max(structuring.windowHours, rapidMovement.windowHours * 2);
    const { sent, received } = await this.repository.screenedHistorySince(customerId, new Date(now.getTime() - lookbackHours * 3_600_000));
    const receivedSince = now.getTime() - rapidMovement.windowHours * 3_600_000;
    const findings: AmlFinding[] = [];
    const s = detectStructuring(customerId, sent, now, structuring);
    if (s) findings.push(s);
    findings.push(...detectRapidMovement(customerId, received.filter((p) => p.at.getTime() >= receivedSince), sent, rapidMovement));
    const relevant = paymentId === undefined ? findings : findings.filter((finding) => finding.paymentIds.includes(paymentId));
    if (relevant.length === 0) return [];
    const existing = await this.repository.casesOf(customerId);
    const toAudit: AmlCaseRecord[] = [];
    for (const finding of relevant) {
      const same = existing.find((record) => record.dedupeKey === amlCaseKey(finding));
      if (same) {
        toAudit.push(same);
        continue;
      }
      if (isCovered(finding, existing)) continue;
      const record = await this.repository.openCase(finding, now);
      if (!record) continue; // a concurrent screening opened it, and audits it
      existing.push(record);
      toAudit.push(record);
      this.log.warn({ caseId: record._id, kind: record.kind, customerId }, 'AML case opened');
    }
    return toAudit;
  }

  async resolveCheck(officer: string, paymentIdInput: string, status: string, note: string | null): Promise<ComplianceCheckRecord> {
    const paymentId = parseId(paymentIdInput, 'paymentId');
    if (status !== 'CLEAR' && status !== 'BLOCKED') throw badInput('status must be CLEAR or BLOCKED', { field: 'status' });
    const check = await this.repository.checkFor(paymentId);
    if (!check) throw notFound('compliance check for payment', paymentId);
    if (check.status !== 'POTENTIAL_MATCH' || check.resolution) {
      throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `payment ${paymentId} has no unresolved potential match (status ${check.status})`);
    }
    const resolution = { officer, status, note, resolvedAt: this.clock() } as const;
    if (!(await this.repository.resolveCheck(paymentId, resolution))) {
      throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `payment ${paymentId} has already been resolved`);
    }
    await this.audit(`resolution:${paymentId}`, 'SANCTIONS_RESOLUTION', { paymentId, officer, status, note });
    await this.continuePayment(paymentId);
    return { ...check, status, resolution };
  }

  private async continuePayment(paymentId: string): Promise<void> {
    try {
      await this.payments.request('payments', CONTINUE_PAYMENT, { id: paymentId });
    } catch (error) {
      this.log.warn({ err: error, paymentId }, 'resolution recorded; payments did not continue the payment (it re-drives waiting payments on start)');
    }
  }

  // --- audit ---------------------------------------------------------------------------

  private async audit(key: string, kind: string, data: unknown, at = this.clock()): Promise<void> {
    await this.repository.appendAudit(key, kind, data, at);
  }

  async verifyAuditTrail(): Promise<ChainVerification> {
    const verifier = new ChainVerifier();
    for await (const record of this.repository.auditInOrder()) {
      verifier.check(record);
      if (verifier.isBroken) break;
    }
    return verifier.finish();
  }
}

function toScreenedPayment(input: PaymentScreeningInput, at: Date): ScreenedPayment {
  return {
    paymentId: input.paymentId,
    customerId: input.customerId,
    counterpartyCustomerId: input.counterpartyCustomerId ?? null,
    usdEquivalentMinor: input.usdEquivalentMinor,
    at,
  };
}

function validateScreeningInput(input: PaymentScreeningInput): void {
  parseId(input.paymentId, 'paymentId');
  parseId(input.customerId, 'customerId');
  parseId(input.sourceAccountId, 'sourceAccountId');
  if (input.destinationAccountId != null) parseId(input.destinationAccountId, 'destinationAccountId');
  if (input.counterpartyCustomerId != null) parseId(input.counterpartyCustomerId, 'counterpartyCustomerId');
  for (const field of ['customerName', 'beneficiaryName', 'counterpartyName', 'beneficiaryAccountNumber', 'beneficiaryAddress'] as const) {
    optionalText(input[field], field);
  }
  for (const field of ['customerCountry', 'beneficiaryCountry'] as const) {
    const value = input[field];
    if (value != null && value !== '' && !/^[A-Z]{2}$/.test(value)) throw badInput(`${field} must be an ISO 3166-1 alpha-2 code`, { field });
  }
  if (input.amountMinor <= 0n) throw badInput('amountMinor must be positive', { field: 'amountMinor' });
  if (input.usdEquivalentMinor < 0n) throw badInput('usdEquivalentMinor must not be negative', { field: 'usdEquivalentMinor' });
}
