/**
 * Authorization directives (@authenticated, @requiresScopes, @policy) enforced by the gateway
 * before it plans: requirements.ts reads them from the supergraph, policies.ts and grants.ts
 * say what a caller holds, operation-filter.ts removes what it may not see, restore.ts puts
 * the answer back in the client's shape, authorizer.ts caches the decisions, step.ts and
 * subscriptions.ts apply them to HTTP operations and subscriptions.
 */
export { Authorizer, type AuthorizationDecision } from './authorizer';
export { readAuthorizationConfig, type AuthorizationConfig, type AuthorizationMode } from './config';
export { authorizationStep } from './step';
export { subscriptionAuthorization } from './subscriptions';
export { withEnforcedSecurityFeatures } from './security-features';
