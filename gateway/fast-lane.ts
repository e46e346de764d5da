import type { IncomingMessage } from 'node:http';
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { GatewayContext } from './data-source';

/**
 * Repeats of a query skip Apollo Server's request pipeline, never Apollo's executor.
 *
 * A frontend sends the same few queries again and again. Once Apollo Server has taken a query
 * through its whole pipeline (parse, validation with the request limits, context, plugins) and
 * ApolloGateway's executor answered it without errors, the lane remembers the parsed and
 * validated document by its text. A later request with the same text, on the same schema, is
 * handed straight to the same executor (planning, fetching, result shaping: hidden enum values
 * nulled with `extensions.valueCompletion`, non-null propagation, `__typename`), with the same
 * context (identity, rate limit). Only an answer without errors is written here, as Apollo
 * Server writes it; anything else — a new or reloaded document, a mutation, an answer with
 * errors, an Accept or an extension the lane does not speak — goes to Apollo Server, which
 * runs the (read-only) query again and reports it its own way.
 */
interface LaneEntry {
  /** What Apollo Server's pipeline made of the first request: document, operation, hash, schema (not its caller's context). */
  readonly learned: Pick<GatewayGraphQLRequestContext, 'logger' | 'schema' | 'schemaHash' | 'cache' | 'queryHash' | 'document' | 'source' | 'operationName' | 'operation'>;
  /** The operation's name, as the request gave it or the document has it (metrics, usage). */
  readonly operationName?: string;
}

/** What a plugin mirrored on the lane sees of an answered request. */
export interface LaneAnswer {
  readonly req: IncomingMessage;
  readonly requestContext: GatewayGraphQLRequestContext;
  readonly operationName?: string;
  /** Seconds since the request reached the lane. */
  readonly seconds: number;
}

export interface FastLaneOptions {
  /** ApolloGateway's executor, the one Apollo Server runs. */
  executor: () => GatewayExecutor | undefined;
  /** The API schema being served: entries learned on another are not used. */
  currentSchema: () => GraphQLSchema | undefined;
  /** Called for every answer the lane writes (the mirrored plugins, request-path.ts). */
  answered: (answer: LaneAnswer) => void;
  /** Distinct documents remembered. */
  maxEntries: number;
}

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

export class FastLane {
  private readonly entries: LRUCache<string, LaneEntry>;

  constructor(private readonly options: FastLaneOptions) {
    this.entries = new LRUCache({ max: options.maxEntries });
  }

  /** Called with each query Apollo Server's pipeline executed, and its result. */
  learn(requestContext: GatewayGraphQLRequestContext, succeeded: boolean): void {
    if (!succeeded || requestContext.operation.operation !== 'query' || typeof requestContext.source !== 'string') return;
    const key = keyOf(requestContext.source, requestContext.request.operationName ?? undefined);
    if (this.entries.has(key)) return;
    const { logger, schema, schemaHash, cache, queryHash, document, source, operationName, operation } = requestContext;
    this.entries.set(key, { learned: { logger, schema, schemaHash, cache, queryHash, document, source, operationName, operation }, operationName: requestContext.request.operationName ?? requestContext.operation.name?.value });
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
    const executor = this.options.executor();
    if (!entry || !executor || entry.learned.schema !== this.options.currentSchema()) return undefined;
    if (!acceptsPlainJson(req.headers.accept) || req.headers['apollo-query-plan-experimental'] !== undefined) return undefined;

    let contextValue: GatewayContext;
    try {
      contextValue = await context();
    } catch {
      return undefined; // Apollo Server reports it with its status
    }
    const { learned } = entry;
    // No `request.http`: the executor reads only its query-plan header (the lane declined
    // those) and our data sources propagate no client headers.
    const requestContext: GatewayGraphQLRequestContext = {
      request: {
        query: request.query,
        operationName: (request.operationName as string | null | undefined) ?? undefined,
        variables: (request.variables as Record<string, unknown> | null | undefined) ?? undefined,
      },
      logger: learned.logger,
      schema: learned.schema,
      schemaHash: learned.schemaHash,
      context: contextValue,
      cache: learned.cache,
      queryHash: learned.queryHash,
      document: learned.document,
      source: learned.source,
      operationName: learned.operationName,
      operation: learned.operation,
      metrics: {},
      // Apollo's executor reads no cache policy (the gateway answers no-store).
      overallCachePolicy: undefined,
    };
    const result = await executor(requestContext);
    // Errors are formatted, masked and counted by Apollo Server: it runs the query again.
    if (result.errors?.length) return undefined;
    this.options.answered({ req, requestContext, operationName: entry.operationName, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    // What Apollo Server writes for a result without errors (its prettyJSONStringify of { errors, data, extensions }).
    return `${JSON.stringify({ data: result.data, extensions: result.extensions })}\n`;
  }
}
