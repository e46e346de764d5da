import { badInput } from '../../runtime/errors';

/** Opaque cursors: payments page by id (ids sort by creation time), events by log sequence. */
export function encodeEventCursor(sequence: number): string {
  return Buffer.from(`evt:${sequence}`).toString('base64url');
}

export function decodeEventCursor(cursor: unknown, field = 'after'): number {
  if (typeof cursor !== 'string' || cursor.length > 64) throw badInput(`${field} is not a valid cursor`, { field });
  const match = /^evt:(0|[1-9][0-9]{0,14})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput(`${field} is not a valid cursor`, { field });
  return Number(match[1]);
}

export function encodePaymentCursor(id: string): string {
  return Buffer.from(`pay:${id}`).toString('base64url');
}

export function decodePaymentCursor(cursor: unknown, field = 'after'): string {
  if (typeof cursor !== 'string' || cursor.length > 128) throw badInput(`${field} is not a valid cursor`, { field });
  const match = /^pay:(pay_[0-9a-f]{24})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput(`${field} is not a valid cursor`, { field });
  return match[1];
}

export function validateFirst(first: unknown, fallback = 20): number {
  const value = first === undefined || first === null ? fallback : first;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) {
    throw badInput('first must be between 1 and 100', { field: 'first' });
  }
  return value;
}
