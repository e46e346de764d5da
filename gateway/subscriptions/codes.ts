import { CloseCode as GraphqlWsCloseCode } from 'graphql-ws';

/**
 * Every WebSocket close code the gateway's subscription endpoint uses, named once. The
 * graphql-ws protocol's own codes keep their numbers; ours are in the 4000–4999 range the
 * protocol leaves to applications and do not collide with it.
 */
export const SubscriptionCloseCode = {
  /** The bearer token in `connection_init` is malformed, expired or not signed by a trusted key (graphql-ws Forbidden). */
  InvalidToken: GraphqlWsCloseCode.Forbidden,
  /** No token in `connection_init`: subscriptions need an authenticated identity (graphql-ws Unauthorized). */
  AuthenticationRequired: GraphqlWsCloseCode.Unauthorized,
  /** `connection_init` did not arrive in time (graphql-ws ConnectionInitialisationTimeout). */
  InitialisationTimeout: GraphqlWsCloseCode.ConnectionInitialisationTimeout,
  /**
   * The client did not read its events fast enough: more undelivered events than the
   * per-client bound were waiting for it. Reconnect and resume with the last cursor.
   */
  SlowConsumer: 4413,
  /** The gateway is stopping (RFC 6455 Going Away); every subscription was completed first. */
  GoingAway: 1001,
} as const;
export type SubscriptionCloseCode = (typeof SubscriptionCloseCode)[keyof typeof SubscriptionCloseCode];

/** Human-readable close reasons sent with the codes above (at most 123 bytes each). */
export const SubscriptionCloseReason = {
  InvalidToken: 'Forbidden: invalid or expired token',
  AuthenticationRequired: 'Unauthorized: connection_init must carry authorization: "Bearer <JWT>"',
  SlowConsumer: 'Slow consumer: too many undelivered events; reconnect and resume with the last cursor',
  GoingAway: 'Gateway shutting down; reconnect and resume with the last cursor',
} as const;

/**
 * `extensions.code` values the subscription path adds to those of runtime/errors.ts. They
 * appear only on the final `next` of a subscription the gateway ends on its own.
 */
export const SubscriptionEndCode = {
  /** The gateway is shutting down; the subscription was completed, resume with the last cursor. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /**
   * Over SSE, which has no close codes: the client read too slowly (SlowConsumer on
   * graphql-ws); the stream was ended, resume with the last cursor.
   */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
} as const;

/**
 * HTTP statuses of the SSE endpoint (`/graphql/stream`) when it refuses a client before any
 * stream opens, the counterparts of the close codes above. The body is `{ errors }` with
 * `extensions.code` UNAUTHENTICATED (401) or SHUTTING_DOWN (503).
 */
export const EventStreamRefusalStatus = {
  InvalidToken: 401,
  AuthenticationRequired: 401,
  GoingAway: 503,
} as const;
