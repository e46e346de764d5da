import { createHash } from 'node:crypto';
import { badInput, ErrorCode, PaygraphError } from '../../runtime/errors';
import { exponentOf, parseDecimal } from '../../runtime/money';

/** Pure rules of a payment request: input validation, idempotency fingerprints, approvals. */

const PRINTABLE = /^[\x21-\x7e]+$/;
const TEXT = /^[^\x00-\x1f\x7f]*$/;

export interface BeneficiaryRecord {
  name: string;
  country: string;
  accountNumber: string;
  currency: string;
  address: string | null;
}

/** A validated createPayment request, canonical: two equal requests are equal objects. */
export interface PaymentRequest {
  idempotencyKey: string;
  sourceAccountId: string;
  destinationAccountId: string | null;
  beneficiary: BeneficiaryRecord | null;
  amountMinor: bigint;
  currency: string;
  reference: string | null;
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw badInput(`${field} must be a string`, { field });
  return value;
}

export function validateIdempotencyKey(value: unknown, field = 'idempotencyKey'): string {
  const key = requireString(value, field);
  if (key.length < 1 || key.length > 128 || !PRINTABLE.test(key)) {
    throw badInput(`${field} must be 1 to 128 printable ASCII characters without spaces`, { field });
  }
  return key;
}

export function validateId(value: unknown, field: string, prefix?: string): string {
  const id = requireString(value, field);
  if (id.length < 1 || id.length > 64 || !/^[A-Za-z0-9_:-]+$/.test(id) || (prefix && !id.startsWith(prefix))) {
    throw badInput(`${field} is not a valid id`, { field });
  }
  return id;
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  const text = requireString(value, field);
  if (text.length > max || !TEXT.test(text)) throw badInput(`${field} must be at most ${max} characters without control characters`, { field });
  return text;
}

function requiredText(value: unknown, field: string, max: number): string {
  const text = optionalText(value, field, max);
  if (text === null || text.trim() === '') throw badInput(`${field} must not be blank`, { field });
  return text.trim();
}

export function validateBeneficiary(input: Record<string, unknown>): BeneficiaryRecord {
  const name = requiredText(input.name, 'beneficiary.name', 140);
  const country = requireString(input.country, 'beneficiary.country');
  if (!/^[A-Z]{2}$/.test(country)) throw badInput('beneficiary.country must be an ISO 3166-1 alpha-2 code', { field: 'beneficiary.country' });
  const accountNumber = requireString(input.accountNumber, 'beneficiary.accountNumber').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9]{4,34}$/.test(accountNumber)) {
    throw badInput('beneficiary.accountNumber must be 4 to 34 letters and digits (IBAN or local account number)', { field: 'beneficiary.accountNumber' });
  }
  const currency = requireString(input.currency, 'beneficiary.currency');
  exponentOf(currency);
  const address = optionalText(input.address, 'beneficiary.address', 256);
  return { name, country, accountNumber: accountNumber.toUpperCase(), currency, address: address?.trim() || null };
}

/** Shape checks that need no other service: everything but the accounts' own facts. */
export function validateCreatePayment(input: Record<string, unknown>): PaymentRequest {
  const idempotencyKey = validateIdempotencyKey(input.idempotencyKey);
  const sourceAccountId = validateId(input.sourceAccountId, 'sourceAccountId');
  const hasDestination = input.destinationAccountId !== undefined && input.destinationAccountId !== null;
  const hasBeneficiary = input.beneficiary !== undefined && input.beneficiary !== null;
  if (hasDestination === hasBeneficiary) {
    throw badInput('give exactly one of destinationAccountId and beneficiary', { field: 'destinationAccountId' });
  }
  const destinationAccountId = hasDestination ? validateId(input.destinationAccountId, 'destinationAccountId') : null;
  if (destinationAccountId === sourceAccountId) throw badInput('destination must differ from source', { field: 'destinationAccountId' });
  const beneficiary = hasBeneficiary ? validateBeneficiary(input.beneficiary as Record<string, unknown>) : null;
  const amountInput = (input.amount ?? {}) as { amount?: unknown; currency?: unknown };
  const currency = requireString(amountInput.currency, 'amount.currency');
  const amount = parseDecimal(requireString(amountInput.amount, 'amount.amount'), currency);
  const reference = optionalText(input.reference, 'reference', 140);
  return { idempotencyKey, sourceAccountId, destinationAccountId, beneficiary, amountMinor: amount.minor, currency, reference };
}

/**
 * The request's fingerprint: sha256 over a canonical JSON of every field but the key, so the
 * same key with any different value is detected as a reuse.
 */
export function requestFingerprint(kind: string, fields: Record<string, unknown>): string {
  const canonical = (value: unknown): unknown => {
    if (typeof value === 'bigint') return value.toString();
    if (value === undefined) return null;
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
  };
  return createHash('sha256').update(JSON.stringify([kind, canonical(fields)])).digest('hex');
}

export function paymentFingerprint(request: PaymentRequest): string {
  const { idempotencyKey: _key, ...fields } = request;
  return requestFingerprint('createPayment', fields);
}

/** Same key, different request: IDEMPOTENCY_KEY_REUSED. */
export function assertSameRequest(storedFingerprint: string, fingerprint: string, key: string): void {
  if (storedFingerprint !== fingerprint) {
    throw new PaygraphError(ErrorCode.IDEMPOTENCY_KEY_REUSED, `idempotency key ${JSON.stringify(key)} was already used for a different request`, {
      field: 'idempotencyKey',
    });
  }
}

// ---- maker-checker approvals ----

export interface ApprovalThresholds {
  /** USD minor units at or above which one approver is needed. */
  singleUsdMinor: bigint;
  /** USD minor units at or above which two distinct approvers are needed. */
  dualUsdMinor: bigint;
}

export function requiredApprovals(usdMinor: bigint, thresholds: ApprovalThresholds): number {
  if (usdMinor >= thresholds.dualUsdMinor) return 2;
  if (usdMinor >= thresholds.singleUsdMinor) return 1;
  return 0;
}

export interface ApprovalRecord {
  approver: string;
  approvedAt: Date;
  /** Signed approvals (signed-approvals.ts): the key, the instruction digest signed, the base64 signature, the key's PEM as verified. */
  keyId?: string;
  digest?: string;
  signature?: string;
  publicKey?: string;
  /** Its key was revoked before the payment was released: it no longer counts (signed-approvals.ts). */
  keyRevokedBeforeRelease?: boolean;
}

/** The creator never approves their own payment; one approver counts once. */
export function checkApprover(creator: string, approvals: readonly ApprovalRecord[], approver: string): void {
  if (approver === creator) throw new PaygraphError(ErrorCode.FORBIDDEN, 'the creator of a payment cannot approve it');
  if (approvals.some((a) => a.approver === approver)) {
    throw new PaygraphError(ErrorCode.INVALID_STATE_TRANSITION, 'you have already approved this payment; another approver is needed');
  }
}

export function hasEnoughApprovals(approvals: readonly ApprovalRecord[], required: number): boolean {
  return new Set(approvals.map((a) => a.approver)).size >= required;
}
