import { GraphQLError } from 'graphql';

/**
 * The error codes clients see in `extensions.code` (../shared/API.md). Named once, here;
 * code throws a `PaygraphError` with one of them at the boundary that knows what went wrong,
 * and the GraphQL edge turns it into `extensions.code`. Nothing matches on messages.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  INVALID_STATE_TRANSITION: 'INVALID_STATE_TRANSITION',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  OPERATION_NOT_ALLOWED: 'OPERATION_NOT_ALLOWED',
  /** A field or type the caller's token does not grant (the gateway's authorization directives). */
  UNAUTHORIZED_FIELD_OR_TYPE: 'UNAUTHORIZED_FIELD_OR_TYPE',
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  /** A payment under a signature policy was approved without a signature (payments). */
  SIGNATURE_REQUIRED: 'SIGNATURE_REQUIRED',
  /** An approval's signature does not verify over the payment's instruction digest (payments). */
  SIGNATURE_INVALID: 'SIGNATURE_INVALID',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A failure with a stable client-facing code. `details` lands in `extensions` too. */
export class PaygraphError extends GraphQLError {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { ...details, code } });
    this.code = code;
    this.name = 'PaygraphError';
  }
}

export const badInput = (message: string, details: Record<string, unknown> = {}) =>
  new PaygraphError(ErrorCode.BAD_USER_INPUT, message, details);
export const notFound = (what: string, id: string) =>
  new PaygraphError(ErrorCode.NOT_FOUND, `${what} ${JSON.stringify(id)} not found`, { id });
export const forbidden = (message = 'not allowed') => new PaygraphError(ErrorCode.FORBIDDEN, message);
export const unauthenticated = (message = 'authentication required') =>
  new PaygraphError(ErrorCode.UNAUTHENTICATED, message);

export function isPaygraphError(error: unknown): error is PaygraphError {
  return error instanceof PaygraphError;
}
