import { executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import type { FetchNode, PlanNode } from '@apollo/query-planner';
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Logger } from '../../runtime/logger';
import type { GatewayContext } from '../data-source';
import type { PreparedSubscription } from './planning';

type RequestContext = Parameters<typeof executeQueryPlan>[2];

/** A service name no subgraph can have: the data source that hands the executor one event. */
const EVENT_SOURCE = '__subscription_event__';

/** What the owning subgraph sent for one event: the primary fetch's result. */
export interface PrimaryResult {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown>; path?: readonly (string | number)[] }[];
}

/**
 * Resolves one event the way a query would be resolved: the gateway's own executor runs a
 * plan made of the primary fetch — answered from the event in hand instead of the network —
 * followed by the planner's `rest` (entity fetches to other subgraphs, batched per fetch,
 * through the same signed data sources as queries, with the subscriber's identity), and
 * shapes the response to the client's selection set (aliases, fragments, __typename).
 */
export async function resolveEvent(
  prepared: PreparedSubscription,
  event: PrimaryResult,
  context: GatewayContext,
  log: Logger,
): Promise<ExecutionResult> {
  const { snapshot } = prepared;
  const eventPrimary: FetchNode = { ...prepared.primary, serviceName: EVENT_SOURCE, variableUsages: [] };
  const node: PlanNode = prepared.rest ? { kind: 'Sequence', nodes: [eventPrimary, prepared.rest] } : eventPrimary;
  // The executor merges later fetches into this object: every resolution gets its own copy.
  const data = structuredClone(event.data ?? null);
  const eventSource: GraphQLDataSource = { process: async () => ({ data }) };
  const serviceMap: Record<string, GraphQLDataSource> = { ...snapshot.dataSources(), [EVENT_SOURCE]: eventSource };
  const requestContext = {
    request: { query: prepared.documentText, operationName: prepared.operationName, variables: prepared.variables },
    context,
    logger: log,
    metrics: {},
    cache: undefined,
    overallCachePolicy: undefined,
  } as unknown as RequestContext;
  const result = await executeQueryPlan(
    { kind: 'QueryPlan', node },
    serviceMap,
    requestContext,
    prepared.operationContext,
    snapshot.supergraphSchema,
    snapshot.apiSchemaInternal,
  );
  const upstreamErrors = event.errors ?? [];
  if (upstreamErrors.length === 0) return result as ExecutionResult;
  const carried = upstreamErrors.map((e) => new GraphQLError(e.message, { path: e.path, extensions: e.extensions }));
  return { ...(result as ExecutionResult), errors: [...carried, ...((result.errors ?? []) as GraphQLError[])] };
}
