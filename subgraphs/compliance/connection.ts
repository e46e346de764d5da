import { badInput } from '../../runtime/errors';

/** Relay connection arguments: `first` in 1..100, `after` an opaque cursor of (time, id). */
export const MAX_PAGE = 100;

export function validateFirst(first: number | null | undefined, fallback = 20): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE) throw badInput(`first must be between 1 and ${MAX_PAGE}`, { field: 'first' });
  return value;
}

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): { at: Date; id: string } | null {
  if (cursor === null || cursor === undefined) return null;
  const malformed = () => badInput('after is not a valid cursor', { field: 'after' });
  if (typeof cursor !== 'string' || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string' || !/^[a-z]{3}_[0-9a-f]+$/.test(parsed[1])) throw malformed();
  return { at: new Date(parsed[0]), id: parsed[1] };
}
