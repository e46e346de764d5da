import { internalSigningSecret } from '../../runtime/config';
import type { Identity } from '../../runtime/identity';
import { signRequest } from '../../runtime/signing';

import type { GraphQLResult } from '../../scripts/gateway-client';

/** The same result shape as a request through the gateway. */
export type GraphQLResponse<T = Record<string, any>> = GraphQLResult<T>;

/** The `extensions.code` of each error of a response, in order. */
export function errorCodes(response: GraphQLResponse): (string | undefined)[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/**
 * Calls a subgraph the way the gateway does: a POST signed for `identity`. Integration
 * tests of one subgraph use it; end-to-end tests go through the gateway instead.
 */
export async function signedGraphql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  identity: Identity,
): Promise<GraphQLResponse<T>> {
  const body = JSON.stringify({ query, variables });
  const headers = signRequest(internalSigningSecret(), { method: 'POST', path: new URL(url).pathname, body, identity });
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const payload = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...payload };
}

/** Identities for tests: a staff operator with every scope, and a customer's own token. */
export const operator: Identity = {
  subject: 'operator-1',
  scopes: ['accounts:read', 'accounts:write', 'payments:read', 'payments:write', 'payments:approve', 'risk:review', 'compliance:review', 'ops:admin'],
};
export const secondOperator: Identity = { ...operator, subject: 'operator-2' };
export const thirdOperator: Identity = { ...operator, subject: 'operator-3' };
export function customerIdentity(customerId: string, scopes = ['accounts:read', 'accounts:write', 'payments:read', 'payments:write']): Identity {
  return { subject: `customer-user-${customerId}`, scopes, customerId };
}
