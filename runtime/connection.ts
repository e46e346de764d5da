import { badInput } from './errors';

/**
 * Relay-style connections, the same in every subgraph: `first` in 1..100, an opaque `after`
 * cursor validated before it reaches a query, `edges { cursor node }` and `pageInfo`.
 */
export const MAX_PAGE_SIZE = 100;

export function pageSize(first: unknown, fallback = 20): number {
  const value = first === undefined || first === null ? fallback : first;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE_SIZE}`, { field: 'first' });
  }
  return value;
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Builds a page from `rows`, fetched with limit `first + 1` so the extra row tells if there is more. */
export function toConnection<T>(rows: readonly T[], first: number, cursorOf: (row: T) => string): Connection<T> {
  const edges = rows.slice(0, first).map((node) => ({ cursor: cursorOf(node), node }));
  return { edges, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** A cursor over (time, id) for lists ordered by a timestamp with the id as tie-breaker. */
export function encodeTimeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

export function decodeTimeCursor(cursor: unknown): { at: Date; id: string } | null {
  if (cursor === null || cursor === undefined) return null;
  const malformed = () => badInput('after is not a valid cursor', { field: 'after' });
  if (typeof cursor !== 'string' || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string' || !/^[a-z]{3}_[0-9a-z_]+$/.test(parsed[1])) {
    throw malformed();
  }
  return { at: new Date(parsed[0]), id: parsed[1] };
}
