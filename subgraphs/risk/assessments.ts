import type { Logger } from 'pino';
import { ErrorCode, PaygraphError, badInput, notFound } from '../../runtime/errors';
import { serviceIdentity } from '../../runtime/identity';
import { InternalClient } from '../../runtime/internal-client';
import type { AlertBus } from './alerts';
import { assessmentIdFor, newId, type AssessmentRecord, type RiskRepository } from './repository';
import { assessRisk, shouldAlert, type RiskDecision, type RiskRules } from './rules';

export interface AssessPaymentInput {
  paymentId: string;
  sourceAccountId: string;
  customerId: string;
  customerCountry: string;
  accountCreatedAt: Date;
  amountMinor: bigint;
  currency: string;
  usdEquivalentMinor: bigint;
  counterpartyCountry?: string | null;
  crossBorder: boolean;
}

const CONTINUE_PAYMENT = `mutation ContinuePayment($id: ID!) { continuePayment(id: $id) { id } }`;

/** Risk's use cases: assess a payment once, review it, raise alerts. */
export class RiskService {
  constructor(
    private readonly repository: RiskRepository,
    private readonly rules: RiskRules,
    private readonly alerts: AlertBus,
    private readonly log: Logger,
    private readonly payments: InternalClient = new InternalClient(serviceIdentity('risk')),
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async assessPayment(input: AssessPaymentInput): Promise<AssessmentRecord> {
    validateAssessInput(input);
    const stored = await this.assessOnce(input);
    // Raising the alert is its own idempotent step, so a retry after a crash still raises it.
    if (shouldAlert(this.rules, stored.level)) await this.raiseAlert(stored);
    return stored;
  }

  /**
   * The payment's one assessment: found in the velocity window when it was made within it,
   * else made now and inserted (the unique index decides a race; the loser reads the winner).
   */
  private async assessOnce(input: AssessPaymentInput): Promise<AssessmentRecord> {
    const now = this.clock();
    const since = new Date(now.getTime() - this.rules.velocity.windowMinutes * 60_000);
    const window = await this.repository.recentForAccount(input.sourceAccountId, since);
    const own = window.find((assessment) => assessment.paymentId === input.paymentId);
    if (own) return own;
    const result = assessRisk(this.rules, { ...input, now, recent: window });
    const record: AssessmentRecord = {
      _id: assessmentIdFor(input.paymentId),
      paymentId: input.paymentId,
      customerId: input.customerId,
      sourceAccountId: input.sourceAccountId,
      amountMinor: input.amountMinor,
      currency: input.currency,
      usdEquivalentMinor: input.usdEquivalentMinor,
      crossBorder: input.crossBorder,
      counterpartyCountry: input.counterpartyCountry ?? null,
      score: result.score,
      level: result.level,
      decision: result.decision,
      reasons: result.reasons,
      assessedAt: now,
      pendingReview: result.decision === 'REVIEW',
      review: null,
    };
    const { record: stored } = await this.repository.insertAssessment(record);
    return stored;
  }

  private async raiseAlert(assessment: AssessmentRecord): Promise<void> {
    const alert = await this.repository.insertAlert({
      _id: newId('ral'),
      paymentId: assessment.paymentId,
      customerId: assessment.customerId,
      level: assessment.level,
      score: assessment.score,
      reasons: assessment.reasons,
      raisedAt: this.clock(),
    });
    if (!alert) return;
    const { _id, ...rest } = alert;
    await this.alerts.publish({ id: _id, ...rest }).catch((error: unknown) => this.log.error({ err: error, paymentId: assessment.paymentId }, 'risk alert publish failed'));
  }

  /**
   * Records an operator's decision on a REVIEW assessment, then asks payments to drive the
   * payment on. The review stands even when payments is down: payments re-drives waiting
   * payments when it starts.
   */
  async reviewAssessment(paymentId: string, decision: RiskDecision, note: string | null, reviewer: string): Promise<AssessmentRecord> {
    if (decision !== 'APPROVE' && decision !== 'DECLINE') throw badInput('decision must be APPROVE or DECLINE', { field: 'decision' });
    const assessment = await this.repository.findByPaymentId(paymentId);
    if (!assessment) throw notFound('risk assessment for payment', paymentId);
    if (!assessment.pendingReview) {
      throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, assessment.review ? `payment ${paymentId} has already been reviewed` : `payment ${paymentId} is not waiting for a risk review (decision ${assessment.decision})`);
    }
    const review = { reviewer, decision, note, reviewedAt: this.clock() };
    if (!(await this.repository.recordReview(paymentId, review))) {
      throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, `payment ${paymentId} has already been reviewed`);
    }
    await this.continuePayment(paymentId);
    return { ...assessment, pendingReview: false, review };
  }

  private async continuePayment(paymentId: string): Promise<void> {
    try {
      await this.payments.request('payments', CONTINUE_PAYMENT, { id: paymentId });
    } catch (error) {
      this.log.warn({ err: error, paymentId }, 'review recorded; payments did not continue the payment (it re-drives waiting payments on start)');
    }
  }
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;

function validateAssessInput(input: AssessPaymentInput): void {
  for (const field of ['paymentId', 'sourceAccountId', 'customerId'] as const) {
    if (typeof input[field] !== 'string' || !ID_PATTERN.test(input[field])) throw badInput(`${field} is not a valid id`, { field });
  }
  if (!COUNTRY_PATTERN.test(input.customerCountry)) throw badInput('customerCountry must be an ISO 3166-1 alpha-2 code', { field: 'customerCountry' });
  if (input.counterpartyCountry != null && !COUNTRY_PATTERN.test(input.counterpartyCountry)) {
    throw badInput('counterpartyCountry must be an ISO 3166-1 alpha-2 code', { field: 'counterpartyCountry' });
  }
  if (input.amountMinor <= 0n) throw badInput('amountMinor must be positive', { field: 'amountMinor' });
  if (input.usdEquivalentMinor < 0n) throw badInput('usdEquivalentMinor must not be negative', { field: 'usdEquivalentMinor' });
}
