import { ERRORS, errorCodeDef, operationFromDocument } from '@apollo/federation-internals';
import type { ApolloGateway } from '@apollo/gateway';
// Not re-exported by the package index; the enum's values are part of the data source contract.
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types';
import type { FetchNode } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError, isNonNullType, Kind, parse, print, type DocumentNode, type GraphQLFormattedError, type OperationDefinitionNode } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { Counter } from 'prom-client';
import type { FastLane } from './fast-lane';
import type { FederatedGraph, GraphSnapshot } from './subscriptions/graph';

/**
 * Operations that one subgraph answers whole skip the query-plan executor.
 *
 * Most of what a frontend sends (an account, a payment, a mutation) is planned as a single
 * fetch whose selection is the client's own. For those, Apollo's executor still builds an
 * operation context, hashes the plan key, walks the plan, and re-shapes the subgraph's answer
 * against the operation: about a third of the gateway's CPU on such a request. Here the plan
 * is examined once per document; when it is one root fetch carrying exactly the client's
 * selection, the request goes to that subgraph through the same data source (signing,
 * timeouts, circuit breaker, SUBGRAPH_UNAVAILABLE) and its answer is the response, with its
 * errors marked as Apollo's executor marks them. Anything else (several fetches, a selection
 * the planner rewrote, introspection) takes Apollo's path, unchanged.
 */

/** How one document's operation is executed on one graph: by a single fetch, or by Apollo's executor. */
export interface SingleFetchRoute {
  readonly subgraph: string;
  readonly fetch: FetchNode;
  /** The fetch's operation, parsed (the planner hands it over as text). */
  readonly document: DocumentNode;
  /** The data when the subgraph sends none: each root field null, or null if one cannot be. */
  readonly emptyData: Record<string, null> | null;
}

const operations = new Counter({
  name: 'paygraph_gateway_operations_total',
  help: "Operations executed by the gateway, by path: fast-lane (a repeat query answered before Apollo Server, fast-lane.ts), single-fetch (one subgraph answers it whole) or planned (Apollo's executor)",
  labelNames: ['path'],
});

export function countOperation(path: 'fast-lane' | 'single-fetch' | 'planned'): void {
  operations.inc({ path });
}

const routes = new WeakMap<GraphSnapshot, WeakMap<DocumentNode, Map<string, SingleFetchRoute | null>>>();

function selectionText(operation: OperationDefinitionNode): string {
  return print(operation.selectionSet);
}

/** The operation's variable definitions (only those named, if given), printed in name order. */
function variablesText(operation: OperationDefinitionNode, only?: readonly string[]): string {
  return (operation.variableDefinitions ?? [])
    .filter((definition) => !only || only.includes(definition.variable.name.value))
    .map((definition) => print(definition))
    .sort()
    .join(' ');
}

/** The single-fetch route for this operation, or null when the plan needs Apollo's executor. */
export function singleFetchRoute(snapshot: GraphSnapshot, document: DocumentNode, operation: OperationDefinitionNode, operationName: string | undefined): SingleFetchRoute | null {
  let byDocument = routes.get(snapshot);
  if (!byDocument) routes.set(snapshot, (byDocument = new WeakMap()));
  let byName = byDocument.get(document);
  if (!byName) byDocument.set(document, (byName = new Map()));
  const key = operationName ?? '';
  if (!byName.has(key)) byName.set(key, planRoute(snapshot, document, operation, operationName));
  return byName.get(key)!;
}

function planRoute(snapshot: GraphSnapshot, document: DocumentNode, operation: OperationDefinitionNode, operationName: string | undefined): SingleFetchRoute | null {
  // Subscriptions run on graphql-ws (gateway/subscriptions); fragments would need the
  // planner's own expansion to compare selections: both take the general path.
  if (operation.operation === 'subscription' || document.definitions.some((d) => d.kind === Kind.FRAGMENT_DEFINITION)) return null;
  let fetch;
  try {
    fetch = snapshot.planner.buildQueryPlan(operationFromDocument(snapshot.apiSchemaInternal, document, { operationName })).node;
  } catch {
    return null; // Apollo's executor plans it again and reports the error its own way
  }
  if (fetch?.kind !== 'Fetch' || fetch.requires || fetch.inputRewrites?.length || fetch.outputRewrites?.length || fetch.contextRewrites?.length) return null;
  const sentDocument = fetch.operationDocumentNode ?? parse(fetch.operation);
  const sent = sentDocument.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  // The subgraph's answer is the client's only if the fetch asks exactly what the client asked,
  // with the same variable types and defaults, and no directive on the operation itself.
  if (!sent || sent.operation !== operation.operation || selectionText(sent) !== selectionText(operation)) return null;
  if (operation.directives?.length || sent.directives?.length || variablesText(sent) !== variablesText(operation, fetch.variableUsages ?? [])) return null;
  return { subgraph: fetch.serviceName, fetch, document: sentDocument, emptyData: emptyDataFor(snapshot, operation) };
}

function emptyDataFor(snapshot: GraphSnapshot, operation: OperationDefinitionNode): Record<string, null> | null {
  const root = operation.operation === 'mutation' ? snapshot.apiSchema.getMutationType() : snapshot.apiSchema.getQueryType();
  const data: Record<string, null> = {};
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return null;
    const field = root?.getFields()[selection.name.value];
    if (selection.name.value !== '__typename' && (!field || isNonNullType(field.type))) return null;
    data[selection.alias?.value ?? selection.name.value] = null;
  }
  return data;
}

/** A subgraph's error as Apollo's executor reports it: the subgraph named, a code always set. */
function downstreamError(error: GraphQLFormattedError, subgraph: string): GraphQLError {
  const message = error.message || `Error while fetching subquery from service "${subgraph}"`;
  const options = { originalError: error as unknown as Error, path: error.path, extensions: { ...error.extensions, serviceName: subgraph } };
  const codeDef = errorCodeDef(error as unknown as GraphQLError);
  if (!codeDef && error.extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

/**
 * Sends the route's fetch with the variables it uses: the subgraph's answer as it came, or
 * undefined when the graph has no data source for the subgraph.
 */
export async function fetchSingle(snapshot: GraphSnapshot, route: SingleFetchRoute, provided: Record<string, unknown>, context: unknown, requestContext: GatewayGraphQLRequestContext | undefined) {
  const source = snapshot.dataSource(route.subgraph);
  if (!source) return undefined;
  const variables: Record<string, unknown> = {};
  for (const name of route.fetch.variableUsages ?? []) if (provided[name] !== undefined) variables[name] = provided[name];
  return source.process({
    kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
    request: { query: route.fetch.operation, variables, operationName: route.fetch.operationName },
    incomingRequestContext: requestContext as never,
    context: context as never,
    document: route.document,
    pathInIncomingRequest: { path: [] } as never,
  });
}

async function executeSingleFetch(snapshot: GraphSnapshot, route: SingleFetchRoute, requestContext: GatewayGraphQLRequestContext): Promise<GatewayExecutionResult | undefined> {
  const provided = requestContext.request.variables ?? {};
  // As Apollo's executor does: variables are checked against the operation before any fetch.
  const definitions = requestContext.operation.variableDefinitions;
  if (definitions?.length) {
    const { errors } = getVariableValues(snapshot.apiSchema, definitions, provided);
    if (errors) return { errors };
  }
  const response = await fetchSingle(snapshot, route, provided, requestContext.context, requestContext);
  if (!response) return undefined;
  const errors = response.errors?.map((error) => downstreamError(error, route.subgraph));
  return { data: response.data ?? route.emptyData, ...(errors?.length ? { errors } : {}) };
}

/**
 * The gateway Apollo Server runs: ApolloGateway, with single-fetch operations taken by the
 * path above. `graph` is the planner and data sources over the gateway's current supergraph
 * (shared with the subscription path); `enabled: false` (GATEWAY_SINGLE_FETCH=false) leaves
 * every operation to Apollo's executor. Queries answered here are taught to `lane`.
 */
export function withSingleFetchPath(gateway: ApolloGateway, graph: () => FederatedGraph, enabled = true, lane?: FastLane): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    load: async (options) => {
      const { executor } = await gateway.load(options);
      if (!executor || !enabled) return { executor };
      return {
        executor: async (requestContext) => {
          const snapshot = graph().current();
          const operationName = requestContext.operationName ?? requestContext.request.operationName ?? undefined;
          const route = singleFetchRoute(snapshot, requestContext.document, requestContext.operation, operationName);
          const result = route ? await executeSingleFetch(snapshot, route, requestContext) : undefined;
          countOperation(result ? 'single-fetch' : 'planned');
          // A query answered whole and without errors: its repeats may take the fast lane.
          if (route && result && !result.errors) lane?.learn(requestContext, snapshot, route);
          return result ?? executor(requestContext);
        },
      };
    },
  };
}
