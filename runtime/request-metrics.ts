import type { GraphQLError } from 'graphql';
import { collectDefaultMetrics, Counter, Histogram } from 'prom-client';
import { ErrorCode, PaygraphError } from './errors';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** GraphQL operations served by this process (gateway: client operations; subgraph: fetches from the gateway and peers). */
export const graphqlRequests = new Counter({
  name: 'paygraph_graphql_requests_total',
  help: 'GraphQL operations served, by operation name (bounded), type and outcome',
  labelNames: ['operation', 'type', 'outcome'],
});

export const graphqlRequestSeconds = new Histogram({
  name: 'paygraph_graphql_request_duration_seconds',
  help: 'GraphQL operation latency, by operation name (bounded) and type',
  labelNames: ['operation', 'type'],
  buckets: LATENCY_BUCKETS,
});

export const graphqlErrors = new Counter({
  name: 'paygraph_graphql_errors_total',
  help: 'GraphQL errors returned, by extensions.code',
  labelNames: ['code'],
});

/** Gateway → subgraph fetches. */
export const subgraphRequests = new Counter({
  name: 'paygraph_subgraph_requests_total',
  help: 'Fetches from the gateway to a subgraph, by subgraph and outcome: ok, error (GraphQL errors in the answer) or failed (unavailable, or no GraphQL answer)',
  labelNames: ['subgraph', 'outcome'],
});

export const subgraphRequestSeconds = new Histogram({
  name: 'paygraph_subgraph_request_duration_seconds',
  help: 'Latency of fetches from the gateway to a subgraph',
  labelNames: ['subgraph'],
  buckets: LATENCY_BUCKETS,
});

/** How many gateway fetches each request to a subgraph carried (gateway/subgraph-batching.ts): 1 is a fetch sent alone. */
export const subgraphBatchFetches = new Histogram({
  name: 'paygraph_subgraph_batch_fetches',
  help: 'Fetches carried by one request from the gateway to a subgraph (concurrent reads are batched)',
  labelNames: ['subgraph'],
  buckets: [1, 2, 4, 8, 16, 32, 64],
});

const CLIENT_CODES = new Set<string>(Object.values(ErrorCode));
// Apollo's request, parse and validation failures reach clients as BAD_USER_INPUT (gateway/server.ts).
const APOLLO_INPUT_CODES = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_SUPPORTED', 'PERSISTED_QUERY_NOT_FOUND']);

/** The bounded `code` label of an error: the code the client sees, OTHER for anything unknown. */
export function errorCodeLabel(error: Pick<GraphQLError, 'extensions' | 'originalError'>): string {
  const original = error.originalError;
  const code = String(original instanceof PaygraphError ? original.code : (error.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR));
  if (APOLLO_INPUT_CODES.has(code)) return ErrorCode.BAD_USER_INPUT;
  return CLIENT_CODES.has(code) ? code : 'OTHER';
}

let processMetrics = false;
/** CPU, memory, event loop lag and handles of this process, once per process. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ prefix: 'paygraph_' });
}
