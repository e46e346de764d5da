import { InternalClient } from '../../runtime/internal-client';
import { serviceIdentity } from '../../runtime/identity';

/**
 * What the payments saga asks of the other subgraphs, as internal signed GraphQL calls.
 * Every call is idempotent by payment id (or transfer id) on the other side.
 */
export interface AccountFacts {
  id: string;
  customerId: string;
  customerName: string;
  customerCountry: string;
  currency: string;
  status: 'ACTIVE' | 'FROZEN' | 'CLOSED';
  createdAt: string;
}

export interface TransferInput {
  transferId: string;
  paymentId: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: bigint;
  currency: string;
}

export interface PlaceHoldInput {
  paymentId: string;
  accountId: string;
  amountMinor: bigint;
  currency: string;
}

export interface CaptureHoldInput {
  paymentId: string;
  creditAccountId: string;
  amountMinor: bigint;
}

export interface AssessInput {
  paymentId: string;
  sourceAccountId: string;
  customerId: string;
  customerCountry: string;
  accountCreatedAt: string;
  amountMinor: bigint;
  currency: string;
  usdEquivalentMinor: bigint;
  counterpartyCountry: string | null;
  crossBorder: boolean;
}

export interface ScreeningInput {
  paymentId: string;
  customerId: string;
  customerName: string;
  customerCountry: string;
  sourceAccountId: string;
  destinationAccountId: string | null;
  beneficiaryName: string | null;
  beneficiaryCountry: string | null;
  beneficiaryAccountNumber: string | null;
  beneficiaryAddress: string | null;
  counterpartyCustomerId: string | null;
  counterpartyName: string | null;
  amountMinor: bigint;
  currency: string;
  usdEquivalentMinor: bigint;
  crossBorder: boolean;
}

export type RiskDecision = 'APPROVE' | 'REVIEW' | 'DECLINE';
export type ComplianceStatus = 'CLEAR' | 'POTENTIAL_MATCH' | 'BLOCKED';

export interface Collaborators {
  accountFacts(ids: string[]): Promise<(AccountFacts | null)[]>;
  systemAccountId(purpose: 'FUNDING' | 'EXTERNAL_SETTLEMENT' | 'FX_POSITION', currency: string): Promise<string>;
  postTransfer(input: TransferInput): Promise<void>;
  /** Two-phase payments: each idempotent by payment id on the ledger (accounts holds.ts). */
  placeHold(input: PlaceHoldInput): Promise<void>;
  captureHold(input: CaptureHoldInput): Promise<void>;
  releaseHold(paymentId: string): Promise<void>;
  assessPayment(input: AssessInput): Promise<RiskDecision>;
  preScreenPayment(input: ScreeningInput): Promise<boolean>;
  screenPayment(input: ScreeningInput): Promise<ComplianceStatus>;
}

const big = (value: bigint) => value.toString();

export class GraphCollaborators implements Collaborators {
  private readonly client = new InternalClient(serviceIdentity('payments'));
  private readonly systemAccounts = new Map<string, string>();

  async accountFacts(ids: string[]): Promise<(AccountFacts | null)[]> {
    const data = await this.client.request<{ accountFacts: (AccountFacts | null)[] }>(
      'accounts',
      `query($ids: [ID!]!) { accountFacts(ids: $ids) { id customerId customerName customerCountry currency status createdAt } }`,
      { ids },
    );
    return data.accountFacts;
  }

  async systemAccountId(purpose: 'FUNDING' | 'EXTERNAL_SETTLEMENT' | 'FX_POSITION', currency: string): Promise<string> {
    const cacheKey = `${purpose}:${currency}`;
    const cached = this.systemAccounts.get(cacheKey);
    if (cached) return cached;
    const data = await this.client.request<{ systemAccountId: string }>(
      'accounts',
      `query($purpose: SystemAccountPurpose!, $currency: Currency!) { systemAccountId(purpose: $purpose, currency: $currency) }`,
      { purpose, currency },
    );
    this.systemAccounts.set(cacheKey, data.systemAccountId);
    return data.systemAccountId;
  }

  async postTransfer(input: TransferInput): Promise<void> {
    await this.client.request('accounts', `mutation($input: PostTransferInput!) { postTransfer(input: $input) { transferId } }`, {
      input: { ...input, amountMinor: big(input.amountMinor) },
    });
  }

  async placeHold(input: PlaceHoldInput): Promise<void> {
    await this.client.request('accounts', `mutation($input: PlaceHoldInput!) { placeHold(input: $input) { state } }`, {
      input: { ...input, amountMinor: big(input.amountMinor) },
    });
  }

  async captureHold(input: CaptureHoldInput): Promise<void> {
    await this.client.request('accounts', `mutation($input: CaptureHoldInput!) { captureHold(input: $input) { state } }`, {
      input: { ...input, amountMinor: big(input.amountMinor) },
    });
  }

  async releaseHold(paymentId: string): Promise<void> {
    await this.client.request('accounts', `mutation($paymentId: ID!) { releaseHold(paymentId: $paymentId) { state } }`, { paymentId });
  }

  async assessPayment(input: AssessInput): Promise<RiskDecision> {
    const data = await this.client.request<{ assessPayment: { decision: RiskDecision } }>(
      'risk',
      `mutation($input: AssessPaymentInput!) { assessPayment(input: $input) { decision } }`,
      { input: { ...input, amountMinor: big(input.amountMinor), usdEquivalentMinor: big(input.usdEquivalentMinor) } },
    );
    return data.assessPayment.decision;
  }

  async preScreenPayment(input: ScreeningInput): Promise<boolean> {
    const data = await this.client.request<{ preScreenPayment: boolean }>(
      'compliance',
      `mutation($input: PaymentScreeningInput!) { preScreenPayment(input: $input) }`,
      { input: screeningVariables(input) },
    );
    return data.preScreenPayment;
  }

  async screenPayment(input: ScreeningInput): Promise<ComplianceStatus> {
    const data = await this.client.request<{ screenPayment: { status: ComplianceStatus } }>(
      'compliance',
      `mutation($input: PaymentScreeningInput!) { screenPayment(input: $input) { status } }`,
      { input: screeningVariables(input) },
    );
    return data.screenPayment.status;
  }
}

function screeningVariables(input: ScreeningInput) {
  return { ...input, amountMinor: big(input.amountMinor), usdEquivalentMinor: big(input.usdEquivalentMinor) };
}
