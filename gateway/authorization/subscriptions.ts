import type { DocumentNode, ExecutionResult, GraphQLError } from 'graphql';
import type { Identity } from '../../runtime/identity';
import type { GraphSnapshot } from '../subscriptions/graph';
import type { Authorizer } from './authorizer';
import { restoreRemovedFields, unauthorizedError } from './restore';

/** A subscription document as the caller may run it, and how each of its events is restored. */
export interface AuthorizedSubscription {
  readonly document: DocumentNode;
  /** Turns a resolved event of `document` into the client's shape (null and an error per removed field). */
  readonly restore?: (result: ExecutionResult) => ExecutionResult;
}

/** What subscription planning calls (gateway/subscriptions/planning.ts) with a validated document. */
export type SubscriptionAuthorization = (snapshot: GraphSnapshot, document: DocumentNode, operationName: string | undefined, text: string) => AuthorizedSubscription | GraphQLError[];

/**
 * The HTTP path's check for a subscriber: the same decision, made at subscribe. A
 * subscription whose root field the caller may not see is refused; fields removed below it
 * come back null with an error in every event.
 */
export function subscriptionAuthorization(authorizer: Authorizer, identity: Identity): SubscriptionAuthorization {
  return (snapshot, document, operationName, text) => {
    const decision = authorizer.decide({ supergraphSchema: snapshot.supergraphSchema, document, operationName, documentKey: text, identity });
    if (decision.kind === 'allowed') return { document };
    if (decision.kind === 'refused') return [...decision.errors];
    const { filtered } = decision;
    if (filtered.nothingLeft) {
      const [{ coordinate, path }] = filtered.removedPaths;
      return [unauthorizedError(coordinate, path)];
    }
    return {
      document: decision.document,
      restore: (result) => restoreRemovedFields(result as { data?: Record<string, unknown> | null; errors?: readonly GraphQLError[] }, filtered) as ExecutionResult,
    };
  };
}
