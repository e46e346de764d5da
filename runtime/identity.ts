import { forbidden, unauthenticated } from './errors';

/** Scopes of ../shared/API.md, plus `internal` for signed calls between our own services. */
export const SCOPES = [
  'accounts:read',
  'accounts:write',
  'payments:read',
  'payments:write',
  'payments:approve',
  'risk:review',
  'compliance:review',
  'ops:admin',
] as const;
export type Scope = (typeof SCOPES)[number] | 'internal';

/**
 * Who is calling, as verified by the gateway (from a JWT) or by a subgraph (from the
 * internal signature). A customer's identity carries `customerId` and sees only its own data.
 */
export interface Identity {
  readonly subject: string;
  readonly scopes: readonly string[];
  /** Set for a customer's own token: limits every read and write to this customer. */
  readonly customerId?: string;
  /** True for our own services calling each other (payments saga → accounts, risk, compliance). */
  readonly internal?: boolean;
}

export const ANONYMOUS: Identity = Object.freeze({ subject: 'anonymous', scopes: [] });

export function serviceIdentity(service: string): Identity {
  return { subject: `service:${service}`, scopes: ['internal', 'ops:admin'], internal: true };
}

export function isAuthenticated(identity: Identity): boolean {
  return identity.subject !== ANONYMOUS.subject;
}

export function hasScope(identity: Identity, scope: Scope): boolean {
  return identity.scopes.includes(scope) || (scope !== 'internal' && identity.scopes.includes('ops:admin'));
}

/** Throws UNAUTHENTICATED for anonymous callers and FORBIDDEN when `scope` is missing. */
export function requireScope(identity: Identity, scope: Scope): void {
  if (!isAuthenticated(identity)) throw unauthenticated();
  if (!hasScope(identity, scope)) throw forbidden(`missing scope ${scope}`);
}

export function requireInternal(identity: Identity): void {
  if (!identity.internal) throw forbidden('internal operation');
}

/**
 * Whether `identity` may see data that belongs to `ownerCustomerId`. Staff tokens (no
 * customer) see everything their scopes allow; a customer token only its own customer.
 */
export function canSeeCustomer(identity: Identity, ownerCustomerId: string | undefined | null): boolean {
  if (identity.internal || identity.customerId === undefined) return true;
  return ownerCustomerId === identity.customerId;
}
