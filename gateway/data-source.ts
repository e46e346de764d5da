import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { parse } from 'graphql';
type Fetcher = RemoteGraphQLDataSource['fetcher'];
import type { SubgraphName } from '../runtime/config';
import { ANONYMOUS, type Identity } from '../runtime/identity';
import { HEADER_IDENTITY, signRequest } from '../runtime/signing';
import { readResilienceConfig, type ResilienceConfig } from './resilience/config';
import { countUnavailable } from './resilience/metrics';
import { SubgraphGuard } from './resilience/subgraph-guard';
import { isMutation, SubgraphUnavailableError, unavailableErrors } from './resilience/unavailable';
import { subgraphFetch, type SubgraphRequest } from './subgraph-http';

type SubgraphResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** What every gateway request carries into the data sources. */
export interface GatewayContext {
  identity: Identity;
  requestId: string;
}

// Carries the identity from willSendRequest to the fetcher, where the final body is known.
const PENDING_IDENTITY = 'x-paygraph-pending-identity';

/**
 * How the gateway calls a subgraph: over pooled keep-alive connections, with the verified
 * identity in headers signed over method, path, timestamp and the exact body sent.
 * Signing lives here, never in resolvers or the executor.
 */
export class SignedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  /** Circuit breaker and read retries for this subgraph (gateway/resilience). */
  readonly guard: SubgraphGuard;

  constructor(url: string, secret: string, timeoutMs: number, readonly subgraph = new URL(url).host, resilience: ResilienceConfig = readResilienceConfig()) {
    // A subgraph's own timeout (e.g. RISK_TIMEOUT_MS) wins over the common SUBGRAPH_TIMEOUT_MS.
    super({ url, fetcher: signingFetcher(secret, new URL(url).pathname, resilience.subgraphTimeoutMs[subgraph as SubgraphName] ?? timeoutMs) });
    this.guard = new SubgraphGuard(resilience);
  }

  /**
   * A subgraph that cannot answer does not fail the whole operation: its fetch comes back as
   * SUBGRAPH_UNAVAILABLE errors on the fields it owns, and the gateway keeps the rest.
   */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<SubgraphResponse> {
    // Health checks and schema loading keep their plain behaviour; only operations are guarded.
    if (!('incomingRequestContext' in options)) return super.process(options);
    const document = options.document ?? parse(options.request.query ?? '');
    try {
      return await this.guard.run(!isMutation(document), () => super.process(options));
    } catch (error) {
      if (!(error instanceof SubgraphUnavailableError)) throw error;
      countUnavailable(this.subgraph, error.reason);
      return { errors: unavailableErrors(this.subgraph, error.reason, document, options.request.variables) } as SubgraphResponse;
    }
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const identity = (context as Partial<GatewayContext>)?.identity ?? ANONYMOUS;
    request.http?.headers.set(PENDING_IDENTITY, JSON.stringify(identity));
    const requestId = (context as Partial<GatewayContext>)?.requestId;
    if (requestId) request.http?.headers.set('x-request-id', requestId);
  }
}

function signingFetcher(secret: string, path: string, timeoutMs: number): Fetcher {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const pending = headers[PENDING_IDENTITY];
    delete headers[PENDING_IDENTITY];
    delete headers[HEADER_IDENTITY];
    const identity = pending ? (JSON.parse(pending) as Identity) : ANONYMOUS;
    const body = init.body ?? '';
    Object.assign(headers, signRequest(secret, { method: init.method ?? 'POST', path, body, identity }));
    const response = await fetchOrUnavailable(url, { method: init.method ?? 'POST', headers, body, timeoutMs });
    return response.status === 400 ? relayGraphQLErrors(response) : response;
  }) as unknown as Fetcher;
}

const GATEWAY_STATUSES = new Set([502, 503, 504]);

/**
 * One HTTP call whose body is read in full inside the timeout: no connection, a reset, a
 * timeout or a 502/503/504 is a SubgraphUnavailableError (retried for reads, counted by the
 * breaker); any other answer is handed on as it came.
 */
async function fetchOrUnavailable(url: string, init: SubgraphRequest): Promise<Response> {
  let response: Response;
  try {
    response = await subgraphFetch(url, init);
  } catch (error) {
    throw new SubgraphUnavailableError((error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable', error);
  }
  if (GATEWAY_STATUSES.has(response.status)) throw new SubgraphUnavailableError('overloaded');
  return response;
}

/**
 * A subgraph answers a bad variable (e.g. a malformed Decimal) with HTTP 400 and GraphQL
 * errors in the body. Handed on as a 200, the gateway relays those errors with their codes
 * (BAD_USER_INPUT) instead of reporting a failed fetch.
 */
async function relayGraphQLErrors(response: Response): Promise<Response> {
  const text = await response.text();
  try {
    const payload = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(payload.errors)) return new Response(text, { status: 200, headers: response.headers });
  } catch {
    // not a GraphQL body: keep the 400
  }
  return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
}
