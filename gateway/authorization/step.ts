import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import { execute, getOperationAST, GraphQLError, type GraphQLSchema } from 'graphql';
import { ErrorCode } from '../../runtime/errors';
import type { GatewayContext } from '../data-source';
import type { OperationStep } from '../request-path';
import type { GraphSnapshot } from '../subscriptions/graph';
import type { Authorizer } from './authorizer';
import { restoreRemovedFields } from './restore';

/** Where the step finds the supergraph of the API schema an operation was validated against. */
export interface SupergraphOfApiSchema {
  snapshotFor(apiSchema: GraphQLSchema): GraphSnapshot | undefined;
}

/**
 * The authorization directives, enforced before Apollo plans: the operation runs with the
 * fields the caller may not see removed (a document of its own, with its own queryHash), and
 * the answer comes back in the client's shape with null and an error where each was; in
 * reject mode such an operation is refused whole. Runs on both fronts (request-path.ts).
 */
export function authorizationStep(authorizer: Authorizer, graph: SupergraphOfApiSchema): OperationStep {
  return {
    name: 'authorization',
    execute: async (requestContext, next): Promise<GatewayExecutionResult> => {
      const snapshot = graph.snapshotFor(requestContext.schema);
      // Fail closed: an API schema the gateway did not announce has no known directives.
      if (!snapshot) return { errors: [new GraphQLError('the supergraph is being reloaded; retry', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } })] };
      const decision = authorizer.decide({
        supergraphSchema: snapshot.supergraphSchema,
        document: requestContext.document,
        operationName: requestContext.request.operationName,
        documentKey: requestContext.queryHash,
        identity: (requestContext.context as GatewayContext).identity,
      });
      if (decision.kind === 'allowed') return next(requestContext);
      if (decision.kind === 'refused') return { errors: decision.errors };
      const { filtered } = decision;
      if (filtered.nothingLeft) {
        // Only markers are left: graphql-js answers `__typename` (and @skip/@include) itself; nothing to plan.
        const local = await execute({ schema: requestContext.schema, document: decision.document, operationName: requestContext.request.operationName, variableValues: requestContext.request.variables });
        return restoreRemovedFields({ data: (local.data as Record<string, unknown> | null | undefined) ?? null, errors: local.errors }, filtered);
      }
      const result = await next({
        ...requestContext,
        document: decision.document,
        source: decision.source,
        queryHash: decision.queryHash,
        operation: getOperationAST(decision.document, requestContext.request.operationName) ?? requestContext.operation,
      });
      return restoreRemovedFields(result as { data?: Record<string, unknown> | null; errors?: readonly GraphQLError[] }, filtered) as GatewayExecutionResult;
    },
  };
}
