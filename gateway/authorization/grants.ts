import { isAuthenticated, type Identity } from '../../runtime/identity';
import { ruleHolds, type PolicyRules } from './policies';
import type { Requirement } from './requirements';

/** What one caller is granted, as the authorization directives ask: computed once per identity. */
export interface Grants {
  readonly authenticated: boolean;
  readonly scopes: ReadonlySet<string>;
  readonly policies: ReadonlySet<string>;
  /** Equal for callers granted the same: a filter decision is cached by it. */
  readonly key: string;
}

/** Each AND-list of one directive argument: does the caller hold all of at least one? */
function anyListHeld(lists: readonly (readonly string[])[], held: ReadonlySet<string>): boolean {
  return lists.some((list) => list.every((name) => held.has(name)));
}

export function satisfies(requirement: Requirement, grants: Grants): boolean {
  if (requirement.authenticated && !grants.authenticated) return false;
  return requirement.scopes.every((lists) => anyListHeld(lists, grants.scopes)) && requirement.policies.every((lists) => anyListHeld(lists, grants.policies));
}

/**
 * Grants per identity. The gateway's token verifier hands out one Identity object per
 * remembered token and a subscription keeps its connection's, so a repeat costs a lookup.
 */
export class GrantBook {
  private readonly known = new WeakMap<Identity, Grants>();

  constructor(private readonly rules: PolicyRules) {}

  of(identity: Identity): Grants {
    let grants = this.known.get(identity);
    if (grants) return grants;
    const authenticated = isAuthenticated(identity);
    const scopes = authenticated ? [...new Set(identity.scopes)].sort() : [];
    const policies = authenticated ? Object.keys(this.rules).filter((name) => ruleHolds(this.rules[name], identity)).sort() : [];
    grants = { authenticated, scopes: new Set(scopes), policies: new Set(policies), key: JSON.stringify([authenticated, scopes, policies]) };
    this.known.set(identity, grants);
    return grants;
  }
}
