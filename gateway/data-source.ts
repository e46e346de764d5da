import { HEALTH_CHECK_QUERY, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { parse, type DocumentNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { SubgraphName } from '../runtime/config';
import { ANONYMOUS, type Identity } from '../runtime/identity';
import { subgraphBatchFetches, subgraphRequestSeconds, subgraphRequests } from '../runtime/request-metrics';
import { encodeIdentity, signRequest } from '../runtime/signing';
import { outgoingTraceHeaders } from '../runtime/telemetry';
import type { ResilienceConfig } from './resilience/config';
import { countUnavailable } from './resilience/metrics';
import { SubgraphGuard } from './resilience/subgraph-guard';
import { isMutation, SubgraphUnavailableError, unavailableErrors } from './resilience/unavailable';
import { subgraphFetch, type SubgraphReply, type SubgraphRequest } from '../runtime/http-client';
import { FetchBatcher, type SubgraphBatchingConfig, type SubgraphOperation, type SubgraphResult } from './subgraph-batching';

type Fetcher = RemoteGraphQLDataSource['fetcher'];
type SubgraphResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** What every gateway request carries into the data sources. */
export interface GatewayContext {
  identity: Identity;
  requestId: string;
}

/** How to call one subgraph; the settings come from GatewayConfig, read once at start. */
export interface SignedDataSourceOptions {
  /** The subgraph's GraphQL endpoint (the supergraph's `join__graph` URL or SUBGRAPH_URLS'). */
  url: string;
  /** The subgraph's name: metric labels, SUBGRAPH_UNAVAILABLE errors, and its own timeout in `resilience`. */
  subgraph: string;
  /** Signs every request (GatewayConfig.signingSecret). */
  signingSecret: string;
  /** Fetch deadline in ms unless `resilience` gives this subgraph its own (GatewayConfig.subgraphTimeoutMs). */
  timeoutMs: number;
  /** Per-subgraph timeouts, read retries and the circuit breaker (GatewayConfig.resilience). */
  resilience: ResilienceConfig;
  /** How concurrent reads are batched (GatewayConfig.batching). */
  batching: SubgraphBatchingConfig;
}

/** What a fetch carries to the request that sends it: who asks, and the trace it belongs to. */
interface FetchCarrier {
  identity: Identity;
  requestId?: string;
  traceHeaders: Record<string, string>;
}

/**
 * How the gateway calls a subgraph: over pooled keep-alive connections, with the verified
 * identity in headers signed over method, path, timestamp and the exact body sent, the
 * request id and W3C trace context, a deadline, the circuit breaker and read retries, and
 * per-subgraph metrics. Signing lives here, never in resolvers or the executor. Concurrent
 * reads are batched into fewer requests (subgraph-batching.ts).
 *
 * Operations are sent by `post` directly rather than through RemoteGraphQLDataSource's own
 * request building (node-fetch Headers, a fetch Request and Response per call), which cost
 * more of the gateway's CPU than the call itself. Schema loading and health checks keep it.
 */
export class SignedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  /** Circuit breaker and read retries for this subgraph (gateway/resilience). */
  readonly guard: SubgraphGuard;
  readonly subgraph: string;
  private readonly secret: string;
  private readonly path: string;
  private readonly timeoutMs: number;

  private readonly batcher?: FetchBatcher<FetchCarrier>;
  /** False once the subgraph refused a batch (a version without batching, mid-rollout): each fetch goes alone. */
  private acceptsBatches = true;

  constructor({ url, subgraph, signingSecret, timeoutMs, resilience, batching }: SignedDataSourceOptions) {
    const path = new URL(url).pathname;
    // A subgraph's own timeout (e.g. RISK_TIMEOUT_MS) wins over the common SUBGRAPH_TIMEOUT_MS.
    const deadline = resilience.subgraphTimeoutMs[subgraph as SubgraphName] ?? timeoutMs;
    super({ url, fetcher: signingFetcher(signingSecret, path, deadline) });
    this.subgraph = subgraph;
    this.secret = signingSecret;
    this.path = path;
    this.timeoutMs = deadline;
    this.guard = new SubgraphGuard(resilience);
    if (batching.maxInFlight > 0) {
      const observe = subgraphBatchFetches.labels({ subgraph: this.subgraph });
      // A batch holds only reads: it is retried as a read would be.
      this.batcher = new FetchBatcher(
        batching,
        (operations, carriers) => this.guard.run(true, () => this.post(operations, carriers)),
        (carrier) => encodeIdentity(carrier.identity),
        (fetches) => observe.observe(fetches),
      );
    }
  }

  /**
   * A subgraph that cannot answer does not fail the whole operation: its fetch comes back as
   * SUBGRAPH_UNAVAILABLE errors on the fields it owns, and the gateway keeps the rest.
   */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<SubgraphResponse> {
    // Health checks and schema loading keep their plain behaviour; only operations are guarded.
    if (!('incomingRequestContext' in options)) return super.process(options);
    const document = options.document ?? parsedOperation(options.request.query ?? '');
    const stopTimer = subgraphRequestSeconds.startTimer({ subgraph: this.subgraph });
    try {
      const { request } = options;
      const operation: SubgraphOperation = { query: request.query ?? '', operationName: request.operationName, variables: request.variables };
      const carrier = carrierOf(options.context);
      const read = !isMutation(document);
      // Reads batch, unless Apollo asked for a per-fetch trace (request.http carries its header).
      const response = (read && this.batcher && this.acceptsBatches && !request.http
        ? await this.batcher.fetch(`${operation.operationName ?? ''}\n${operation.query}`, operation, carrier)
        : (await this.guard.run(read, () => this.post([operation], [carrier])))[0]) as SubgraphResponse;
      subgraphRequests.inc({ subgraph: this.subgraph, outcome: response.errors?.length ? 'error' : 'ok' });
      return response;
    } catch (error) {
      subgraphRequests.inc({ subgraph: this.subgraph, outcome: 'failed' });
      if (!(error instanceof SubgraphUnavailableError)) throw error;
      countUnavailable(this.subgraph, error.reason);
      return { errors: unavailableErrors(this.subgraph, error.reason, document, options.request.variables) } as SubgraphResponse;
    } finally {
      stopTimer();
    }
  }

  /**
   * Whether the subgraph answers GraphQL now: Apollo's health-check query, signed as nobody,
   * within `timeoutMs`. 'ready', or why not.
   */
  async probe(timeoutMs: number): Promise<string> {
    const body = JSON.stringify({ query: HEALTH_CHECK_QUERY });
    const headers = { 'content-type': 'application/json', accept: 'application/json', ...signRequest(this.secret, { method: 'POST', path: this.path, body, identity: ANONYMOUS }) };
    try {
      const reply = await subgraphFetch(this.url!, { method: 'POST', headers, body, timeoutMs });
      const payload = reply.status === 200 ? graphqlPayload(reply) : undefined;
      return payload?.data ? 'ready' : `status ${reply.status}`;
    } catch (error) {
      return (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable';
    }
  }

  /**
   * One signed POST: a single operation as it is, several as an HTTP batch (a JSON array)
   * in which each operation names its own caller and request id (`extensions.paygraph`,
   * read by runtime/subgraph-server.ts); the signature covers them with the body. Their JSON
   * answers, one per operation, or the error Apollo's data source would raise.
   */
  private async post(operations: SubgraphOperation[], carriers: FetchCarrier[]): Promise<SubgraphResult[]> {
    const single = operations.length === 1;
    const carrier = carriers[0];
    const body = JSON.stringify(
      single ? operations[0] : operations.map((operation, i) => ({ ...operation, extensions: { paygraph: { identity: encodeIdentity(carriers[i].identity), requestId: carriers[i].requestId } } })),
    );
    // The signature covers method, path, timestamp, body and identity: the trace headers leave it valid.
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...carrier.traceHeaders,
      ...(carrier.requestId ? { 'x-request-id': carrier.requestId } : {}),
      // A batch of several callers is signed as nobody: a subgraph that ignored the operations'
      // own callers would refuse them all rather than answer one caller's as another's.
      ...signRequest(this.secret, { method: 'POST', path: this.path, body, identity: single || oneCaller(carriers) ? carrier.identity : ANONYMOUS }),
    };
    const reply = await fetchOrUnavailable(this.url!, { method: 'POST', headers, body, timeoutMs: this.timeoutMs });
    if (single) {
      const payload = graphqlPayload(reply);
      if (payload) return [payload as SubgraphResult];
    } else {
      const answers = batchPayload(reply, operations.length);
      if (answers) return answers;
      if (reply.status >= 400 && reply.status < 500) {
        // Refused as a batch (a subgraph that does not take them): each alone, now and from now on.
        this.acceptsBatches = false;
        return (await Promise.all(operations.map((operation, i) => this.post([operation], [carriers[i]])))).flat();
      }
    }
    throw await this.errorFromResponse(asResponse(reply));
  }
}

/** The caller and trace a fetch is made for, taken when it is made (a batch is sent later, from another request's turn). */
function carrierOf(context: Partial<GatewayContext> | undefined): FetchCarrier {
  return { identity: context?.identity ?? ANONYMOUS, requestId: context?.requestId, traceHeaders: outgoingTraceHeaders() };
}

function oneCaller(carriers: FetchCarrier[]): boolean {
  const first = encodeIdentity(carriers[0].identity);
  return carriers.every((carrier) => encodeIdentity(carrier.identity) === first);
}

// The planner hands fetches over as text: parse each operation once, not on every request.
const parsedOperations = new LRUCache<string, DocumentNode>({ max: 1000, memoMethod: (query) => parse(query) });

function parsedOperation(query: string): DocumentNode {
  return parsedOperations.memo(query);
}

/**
 * The JSON body of a GraphQL answer: any 2xx, and a 400 that carries GraphQL errors (a
 * subgraph answers a bad variable, e.g. a malformed Decimal, that way): the gateway relays
 * those errors with their codes (BAD_USER_INPUT) instead of reporting a failed fetch.
 */
function graphqlPayload(reply: SubgraphReply): { data?: unknown; errors?: unknown[] } | undefined {
  if (reply.status !== 400 && (reply.status < 200 || reply.status > 299)) return undefined;
  try {
    const payload = JSON.parse(reply.body) as { data?: unknown; errors?: unknown[] };
    if (reply.status === 400 && !Array.isArray(payload?.errors)) return undefined;
    return typeof payload === 'object' && payload !== null ? payload : undefined;
  } catch {
    return undefined;
  }
}

/** The answers to an HTTP batch: a JSON array with one GraphQL answer per operation (status 200, or 400 when one failed validation). */
function batchPayload(reply: SubgraphReply, count: number): SubgraphResult[] | undefined {
  if (reply.status !== 200 && reply.status !== 400) return undefined;
  try {
    const answers = JSON.parse(reply.body) as unknown;
    if (!Array.isArray(answers) || answers.length !== count) return undefined;
    return answers.every((answer) => typeof answer === 'object' && answer !== null) ? (answers as SubgraphResult[]) : undefined;
  } catch {
    return undefined;
  }
}

function asResponse(reply: SubgraphReply): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(reply.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  // A Response may not carry a body for these statuses.
  const body = reply.status === 204 || reply.status === 304 ? null : reply.body;
  return new Response(body, { status: reply.status, statusText: reply.statusText, headers });
}

/** Schema loading and health checks (RemoteGraphQLDataSource's own path): signed as the anonymous caller. */
function signingFetcher(secret: string, path: string, timeoutMs: number): Fetcher {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const body = init.body ?? '';
    const method = init.method ?? 'POST';
    const headers = { ...(init.headers ?? {}), ...signRequest(secret, { method, path, body, identity: ANONYMOUS }) };
    return asResponse(await fetchOrUnavailable(url, { method, headers, body, timeoutMs }));
  }) as unknown as Fetcher;
}

const GATEWAY_STATUSES = new Set([502, 503, 504]);

/**
 * One HTTP call whose body is read in full inside the timeout: no connection, a reset, a
 * timeout or a 502/503/504 is a SubgraphUnavailableError (retried for reads, counted by the
 * breaker); any other answer is handed on as it came.
 */
async function fetchOrUnavailable(url: string, init: SubgraphRequest): Promise<SubgraphReply> {
  let reply: SubgraphReply;
  try {
    reply = await subgraphFetch(url, init);
  } catch (error) {
    throw new SubgraphUnavailableError((error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable', error);
  }
  if (GATEWAY_STATUSES.has(reply.status)) throw new SubgraphUnavailableError('overloaded');
  return reply;
}
