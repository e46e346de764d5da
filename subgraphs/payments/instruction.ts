import { createHash } from 'node:crypto';
import type { PaymentDoc } from './repository';

/**
 * A payment's canonical instruction: what an approver signs. Version 1 is JSON with keys
 * sorted at every level, no whitespace, money as integer minor units in strings, absent
 * values as null and dates as ISO 8601 UTC. The digest is SHA-256 over its UTF-8 bytes;
 * a signature is Ed25519 over the 32 digest bytes. Any change to a field below changes the
 * digest, so approvals collected for the old instruction no longer count.
 */
export const INSTRUCTION_VERSION = 'paygraph.instruction.v1';

export type InstructionFields = Pick<PaymentDoc, '_id' | 'sourceAccountId' | 'destinationAccountId' | 'beneficiary' | 'amountMinor' | 'currency' | 'reference' | 'fx' | 'authorization'>;

export interface PaymentInstruction {
  /** The canonical text (what the digest is taken over). */
  text: string;
  /** Lower-case hex SHA-256 of `text`. */
  digest: string;
}

/** Sorted keys, bigints as decimal strings, dates as ISO strings, undefined as null. */
function canonical(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'number') {
    // Money never travels as a float; a non-integer number here is a bug upstream.
    if (!Number.isSafeInteger(value)) throw new Error('a payment instruction holds no floating-point numbers');
    return String(value);
  }
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(Object.keys(record).sort().map((key) => [key, canonical(record[key])]));
  }
  return value;
}

/** The canonical text of a payment's instruction (version 1). */
export function canonicalInstruction(p: InstructionFields): string {
  const beneficiary = p.beneficiary && {
    accountNumber: p.beneficiary.accountNumber,
    address: p.beneficiary.address,
    country: p.beneficiary.country,
    currency: p.beneficiary.currency,
    name: p.beneficiary.name,
  };
  return JSON.stringify(canonical({
    version: INSTRUCTION_VERSION,
    paymentId: p._id,
    amount: { minor: p.amountMinor, currency: p.currency },
    source: p.sourceAccountId,
    destination: p.destinationAccountId,
    beneficiary,
    reference: p.reference,
    // The locked FX quote as stored, every field of it: a re-quote is a different instruction.
    fx: p.fx,
    // An authorization (a hold, captured later) is another instruction than a transfer; only
    // its terms count, not how it is closed afterwards.
    authorization: p.authorization ? { expiresAt: p.authorization.expiresAt } : null,
  }));
}

export function digestOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function paymentInstruction(p: InstructionFields): PaymentInstruction {
  const text = canonicalInstruction(p);
  return { text, digest: digestOf(text) };
}
