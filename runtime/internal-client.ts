import { envInt, internalSigningSecret, subgraphUrl, type SubgraphName } from './config';
import { ErrorCode, PaygraphError } from './errors';
import type { Identity } from './identity';
import { signRequest } from './signing';
import { withClientSpan } from './telemetry';

/**
 * Signed GraphQL calls from one of our services to a subgraph (the payments saga calling
 * accounts, risk and compliance). Domains talk through the graph, never through each other's
 * code; the signature is what lets a subgraph accept `@inaccessible` internal operations.
 */
export class InternalClient {
  private readonly secret = internalSigningSecret();
  constructor(
    private readonly identity: Identity,
    private readonly urls: Partial<Record<SubgraphName, string>> = {},
    /** Env INTERNAL_TIMEOUT_MS, default 10000. */
    private readonly timeoutMs = envInt('INTERNAL_TIMEOUT_MS', 10_000, { min: 1 }),
  ) {}

  async request<T>(subgraph: SubgraphName, query: string, variables: Record<string, unknown> = {}, identity = this.identity): Promise<T> {
    const url = new URL(this.urls[subgraph] ?? subgraphUrl(subgraph));
    const body = JSON.stringify({ query, variables });
    const headers = signRequest(this.secret, { method: 'POST', path: url.pathname, body, identity });
    let response: Response;
    try {
      // The trace and request id follow the call (traceparent, x-request-id); the signature does not cover them.
      response = await withClientSpan(`internal ${subgraph}`, { 'paygraph.subgraph': subgraph }, (traceHeaders) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...traceHeaders, ...headers },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        }),
      );
    } catch (error) {
      throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${subgraph} is unavailable`, { subgraph, cause: String(error) });
    }
    if (response.status >= 500 && response.status !== 500) {
      throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${subgraph} answered ${response.status}`, { subgraph });
    }
    const payload = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (payload.errors?.length) {
      const first = payload.errors[0];
      const code = (first.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR) as ErrorCode;
      throw new PaygraphError(code, first.message, { subgraph });
    }
    if (!payload.data) throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${subgraph} returned no data`, { subgraph });
    return payload.data;
  }
}
