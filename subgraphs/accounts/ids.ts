import { createHash, randomBytes } from 'node:crypto';
import { badInput } from '../../runtime/errors';

/** IDs are a type prefix and 24 random hex digits: `cus_…`, `acc_…`, `led_…`, `dep_…`. */
export type IdPrefix = 'cus' | 'acc' | 'led' | 'dep';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/**
 * Records found by a natural key get an id derived from that key, so finding one is a point
 * lookup by `_id` — the one lookup every MongoDB-compatible store answers without a scan.
 */
export function ledgerEntryId(transferId: string, direction: 'DEBIT' | 'CREDIT'): string {
  return `led_${transferId}/${direction.toLowerCase()}`;
}

export function depositRequestId(subject: string, idempotencyKey: string): string {
  return `dep_${createHash('sha256').update(`${subject}\u0000${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

export function systemAccountKey(purpose: string, currency: string): string {
  return `${purpose}:${currency}`;
}

const CUSTOMER_ID = /^cus_[0-9a-f]{24}$/;
// Customer accounts have random ids; the bank's own accounts have readable ones (acc_sys_funding_usd).
const ACCOUNT_ID = /^acc_(?:[0-9a-f]{24}|sys_[a-z_]{1,40}_[a-z]{3})$/;

export function isCustomerId(value: unknown): value is string {
  return typeof value === 'string' && CUSTOMER_ID.test(value);
}

export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_ID.test(value);
}

/** For inputs where a malformed id is the caller's mistake (mutations), not a miss (queries). */
export function requireAccountId(value: unknown, field = 'accountId'): string {
  if (!isAccountId(value)) throw badInput(`${field} is not an account id`, { field });
  return value;
}

export function requireCustomerId(value: unknown, field = 'customerId'): string {
  if (!isCustomerId(value)) throw badInput(`${field} is not a customer id`, { field });
  return value;
}
