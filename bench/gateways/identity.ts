import type { Identity } from '../../runtime/identity';
import { ALL_SCOPES } from '../../runtime/dev-token';
import { signRequest } from '../../runtime/signing';

/**
 * The caller every gateway in the comparison acts for. Ours verifies a JWT with these claims;
 * the other gateways have no auth of their own, so they sign this identity on every call.
 */
export const BENCH_IDENTITY: Identity = { subject: 'bench-operator', scopes: ALL_SCOPES.split(' ') };

/** Signed headers for one subgraph call, over its exact body (subgraphs refuse unsigned calls). */
export function benchSignature(secret: string, url: string, body: string, method = 'POST'): Record<string, string> {
  return signRequest(secret, { method, path: new URL(url).pathname, body, identity: BENCH_IDENTITY });
}

/** The supergraph with each subgraph's URL pointed at where the benchmark runs it. */
export function withSubgraphUrls(supergraphSdl: string, urls: Record<string, string>): string {
  return supergraphSdl.replace(/@join__graph\(name: "(\w+)", url: "[^"]*"\)/g, (whole, name: string) =>
    urls[name] ? `@join__graph(name: "${name}", url: "${urls[name]}")` : whole,
  );
}
