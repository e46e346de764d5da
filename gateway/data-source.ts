import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
type Fetcher = RemoteGraphQLDataSource['fetcher'];
import { ANONYMOUS, type Identity } from '../runtime/identity';
import { HEADER_IDENTITY, signRequest } from '../runtime/signing';
import { subgraphFetch } from './subgraph-http';

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
  constructor(url: string, secret: string, timeoutMs: number) {
    super({ url, fetcher: signingFetcher(secret, new URL(url).pathname, timeoutMs) });
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
    const response = await subgraphFetch(url, { method: init.method ?? 'POST', headers, body, timeoutMs });
    return response.status === 400 ? relayGraphQLErrors(response) : response;
  }) as unknown as Fetcher;
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
