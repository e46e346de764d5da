import { envInt, internalSigningSecret, subgraphUrl, type SubgraphName } from './config';
import { ErrorCode, PaygraphError } from './errors';
import type { Identity } from './identity';
import { signRequest } from './signing';
import { subgraphFetch, type SubgraphReply } from './http-client';
import { withClientSpan } from './telemetry';

/**
 * Signed GraphQL calls from one of our services to a subgraph (the payments saga calling
 * accounts, risk and compliance). Domains talk through the graph, never through each other's
 * code; the signature is what lets a subgraph accept `@inaccessible` internal operations.
 */
export class InternalClient {
  private readonly secret = internalSigningSecret();
  /** Each URL's path, parsed once (the URL itself is looked up per call: tests repoint it). */
  private readonly paths = new Map<string, string>();
  constructor(
    private readonly identity: Identity,
    private readonly urls: Partial<Record<SubgraphName, string>> = {},
    /** Env INTERNAL_TIMEOUT_MS, default 10000. */
    private readonly timeoutMs = envInt('INTERNAL_TIMEOUT_MS', 10_000, { min: 1 }),
  ) {}

  async request<T>(subgraph: SubgraphName, query: string, variables: Record<string, unknown> = {}, identity = this.identity): Promise<T> {
    const { url, path } = this.target(subgraph);
    const body = JSON.stringify({ query, variables });
    const headers = signRequest(this.secret, { method: 'POST', path, body, identity });
    let response: SubgraphReply;
    try {
      // The trace and request id follow the call (traceparent, x-request-id); the signature does not cover them.
      response = await withClientSpan(`internal ${subgraph}`, { 'paygraph.subgraph': subgraph }, (traceHeaders) =>
        subgraphFetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...traceHeaders, ...headers }, body, timeoutMs: this.timeoutMs }),
      );
    } catch (error) {
      throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${subgraph} is unavailable`, { subgraph, cause: String(error) });
    }
    if (response.status >= 500 && response.status !== 500) {
      throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${subgraph} answered ${response.status}`, { subgraph });
    }
    let payload: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      payload = JSON.parse(response.body) as typeof payload;
    } catch {
      throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${subgraph} answered ${response.status} without JSON`, { subgraph });
    }
    if (payload.errors?.length) {
      const first = payload.errors[0];
      const code = (first.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR) as ErrorCode;
      throw new PaygraphError(code, first.message, { subgraph });
    }
    if (!payload.data) throw new PaygraphError(ErrorCode.SUBGRAPH_UNAVAILABLE, `${subgraph} returned no data`, { subgraph });
    return payload.data;
  }

  private target(subgraph: SubgraphName): { url: string; path: string } {
    const url = this.urls[subgraph] ?? subgraphUrl(subgraph);
    let path = this.paths.get(url);
    if (path === undefined) this.paths.set(url, (path = new URL(url).pathname));
    return { url, path };
  }
}
