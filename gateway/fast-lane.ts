import type { IncomingMessage } from 'node:http';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { setBounded } from '../runtime/bounded-cache';
import type { OperationRecorder } from '../runtime/observability';
import { nameRequestSpan } from '../runtime/telemetry';
import type { GatewayContext } from './data-source';
import { countOperation, fetchSingle, type SingleFetchRoute } from './single-fetch';
import type { ObservedOperation } from './subscriptions/protocol';
import type { FederatedGraph, GraphSnapshot } from './subscriptions/graph';
import { CLIENT_NAME_HEADERS } from './usage-reporting';

/**
 * Repeats of a query that one subgraph answers whole skip Apollo Server's request pipeline.
 *
 * A frontend sends the same few queries again and again. Once Apollo Server has run a query
 * through its whole pipeline (parse, validation with the request limits, the single-fetch path
 * of single-fetch.ts) and it succeeded, the lane remembers it by its text. A later request
 * with the same text is answered from here: the same context (identity, rate limit), the same
 * variable checks, the same data source (signed, guarded), the same metrics, log line, trace
 * name and schema usage record, and the body Apollo Server would write. Everything else goes
 * to Apollo Server: a document not yet seen or since reloaded, a mutation, variables that do
 * not coerce, a subgraph answer with errors (the query is read-only and runs again there, so
 * Apollo formats the errors), any Accept or extension the lane does not speak.
 */
interface LaneEntry {
  readonly snapshot: GraphSnapshot;
  readonly route: SingleFetchRoute;
  readonly operation: OperationDefinitionNode;
  /** The operation's name, as the request gave it or the document has it (metrics, usage). */
  readonly operationName?: string;
  readonly document: DocumentNode;
  /** Apollo's hash of the query text, the usage record's document key. */
  readonly queryHash: string;
  /** The schema Apollo validated against (the usage record's). */
  readonly schema: GraphQLSchema;
}

const MAX_ENTRIES = 1000;

interface LaneRequest {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

function keyOf(query: string, operationName: string | undefined): string {
  return `${operationName ?? ''}\n${query}`;
}

/** Apollo Server answers these Accept headers with plain `application/json`, as the lane does. */
function acceptsPlainJson(accept: string | undefined): boolean {
  if (accept === undefined || accept === '' || accept === '*/*') return true;
  return accept.startsWith('application/json') && !accept.includes('graphql-response') && !accept.includes('multipart');
}

export interface FastLaneOptions {
  graph: () => FederatedGraph;
  recorder: OperationRecorder;
  observeUsage: (operation: ObservedOperation) => void;
}

export class FastLane {
  private readonly entries = new Map<string, LaneEntry>();

  constructor(private readonly options: FastLaneOptions) {}

  /** Called by the single-fetch path after a query it ran for Apollo Server succeeded. */
  learn(requestContext: GatewayGraphQLRequestContext, snapshot: GraphSnapshot, route: SingleFetchRoute): void {
    if (requestContext.operation.operation !== 'query' || typeof requestContext.source !== 'string') return;
    const key = keyOf(requestContext.source, requestContext.request.operationName ?? undefined);
    if (this.entries.has(key)) return;
    const entry: LaneEntry = {
      snapshot,
      route,
      operation: requestContext.operation,
      operationName: requestContext.request.operationName ?? requestContext.operation.name?.value,
      document: requestContext.document,
      queryHash: requestContext.queryHash,
      schema: requestContext.schema,
    };
    setBounded(this.entries, key, entry, MAX_ENTRIES);
  }

  /**
   * The response body for this request if the lane can answer it, else undefined (and the
   * request goes to Apollo Server, with the context already made, if it was).
   */
  async serve(req: IncomingMessage, body: unknown, context: () => Promise<GatewayContext>): Promise<string | undefined> {
    const started = process.hrtime.bigint();
    const request = body as LaneRequest;
    if (typeof request.query !== 'string' || request.extensions !== undefined) return undefined;
    if (request.operationName !== undefined && request.operationName !== null && typeof request.operationName !== 'string') return undefined;
    if (request.variables !== undefined && request.variables !== null && (typeof request.variables !== 'object' || Array.isArray(request.variables))) return undefined;
    const entry = this.entries.get(keyOf(request.query, request.operationName ?? undefined));
    if (!entry || entry.snapshot !== this.options.graph().current()) return undefined;
    if (!acceptsPlainJson(req.headers.accept) || req.headers['apollo-query-plan-experimental'] !== undefined) return undefined;

    const variables = (request.variables ?? {}) as Record<string, unknown>;
    if (entry.operation.variableDefinitions?.length && getVariableValues(entry.snapshot.apiSchema, entry.operation.variableDefinitions, variables).errors) return undefined;
    let contextValue: GatewayContext;
    try {
      contextValue = await context();
    } catch {
      return undefined; // Apollo Server reports it with its status
    }
    const response = await fetchSingle(entry.snapshot, entry.route, variables, contextValue, undefined);
    if (!response || response.errors?.length) return undefined;

    const operation = this.options.recorder.label(entry.operationName);
    nameRequestSpan('query', operation);
    const client = req.headers[CLIENT_NAME_HEADERS[0]] ?? req.headers[CLIENT_NAME_HEADERS[1]];
    this.options.observeUsage({
      schema: entry.schema,
      documentKey: entry.queryHash,
      document: entry.document,
      operationName: entry.operationName,
      clientName: typeof client === 'string' ? client : undefined,
    });
    countOperation('fast-lane');
    // What Apollo Server writes for a result without errors (prettyJSONStringify).
    const text = `${JSON.stringify({ data: response.data ?? entry.route.emptyData })}\n`;
    this.options.recorder.record(operation, 'query', false, Number(process.hrtime.bigint() - started) / 1e9);
    return text;
  }
}
