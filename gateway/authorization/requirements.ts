import {
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isObjectType,
  Kind,
  type ConstDirectiveNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';

/**
 * What a caller needs to see a field or a type, as the supergraph's authorization directives
 * say. Every entry of `scopes` (and of `policies`) is one directive's argument: an OR of
 * AND-lists (`[["a", "b"], ["c"]]`: both a and b, or c). All entries must hold.
 */
export interface Requirement {
  readonly authenticated: boolean;
  readonly scopes: readonly (readonly (readonly string[])[])[];
  readonly policies: readonly (readonly (readonly string[])[])[];
}

export const NO_REQUIREMENT: Requirement = Object.freeze({ authenticated: false, scopes: [], policies: [] });

export function isUnrestricted(requirement: Requirement): boolean {
  return !requirement.authenticated && requirement.scopes.length === 0 && requirement.policies.length === 0;
}

/** Both requirements at once. */
export function bothOf(a: Requirement, b: Requirement): Requirement {
  if (isUnrestricted(a)) return b;
  if (isUnrestricted(b)) return a;
  return { authenticated: a.authenticated || b.authenticated, scopes: [...a.scopes, ...b.scopes], policies: [...a.policies, ...b.policies] };
}

/** The spec URLs of the three directives, and the names they have when a supergraph does not rename them. */
const SPECS = {
  authenticated: 'https://specs.apollo.dev/authenticated/',
  requiresScopes: 'https://specs.apollo.dev/requiresScopes/',
  policy: 'https://specs.apollo.dev/policy/',
} as const;
type DirectiveRole = keyof typeof SPECS;

/** The names the supergraph gives the directives: the spec's own, or its `@link(as:)`. */
function directiveNames(schema: GraphQLSchema): Map<string, DirectiveRole> {
  const names = new Map<string, DirectiveRole>();
  const links = [schema.astNode, ...schema.extensionASTNodes].flatMap((node) => node?.directives ?? []).filter((d) => d.name.value === 'link');
  for (const link of links) {
    const url = stringArgument(link, 'url');
    const role = (Object.keys(SPECS) as DirectiveRole[]).find((r) => url?.startsWith(SPECS[r]));
    if (role) names.set(stringArgument(link, 'as') ?? role, role);
  }
  return names;
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

/** `[[String!]!]!` as written in the SDL (a single string or list is coerced as GraphQL coerces lists). */
function nestedStrings(value: ValueNode | undefined): string[][] {
  if (!value) return [];
  const outer = value.kind === Kind.LIST ? value.values : [value];
  return outer.map((inner) => (inner.kind === Kind.LIST ? inner.values : [inner]).flatMap((v) => (v.kind === Kind.STRING ? [v.value] : [])));
}

/**
 * The authorization directives of one supergraph, by type and field. A field's requirement
 * (`ofField`) is what Apollo Router checks before it plans: the field's own directives, those
 * of the type it returns, those of the type it is selected on, and — when it is selected on an
 * interface or union — those of every possible type's own field, so that no object is read
 * through an abstract type without what its own type demands. `__typename` is always allowed.
 */
export class AuthorizationRules {
  private readonly names: Map<string, DirectiveRole>;
  private readonly ofType = new Map<string, Requirement>();
  private readonly ofFieldCache = new Map<string, Requirement>();
  /** Whether any type or field of the supergraph carries a directive: when none does, nothing is checked. */
  readonly any: boolean;
  /** Every policy name the supergraph uses. */
  readonly policyNames = new Set<string>();

  constructor(private readonly schema: GraphQLSchema) {
    this.names = directiveNames(schema);
    let any = false;
    if (this.names.size > 0) {
      for (const type of Object.values(schema.getTypeMap())) {
        if (!isUnrestricted(this.typeRequirement(type))) any = true;
        if (isObjectType(type) || isInterfaceType(type)) {
          for (const field of Object.values(type.getFields())) {
            if (!isUnrestricted(this.fromDirectives(field.astNode?.directives))) any = true;
          }
        }
      }
    }
    this.any = any;
  }

  /** A type's own directives (object, interface, scalar, enum). */
  typeRequirement(type: GraphQLNamedType): Requirement {
    let requirement = this.ofType.get(type.name);
    if (!requirement) {
      const directives = [type.astNode, ...type.extensionASTNodes].flatMap((node) => node?.directives ?? []);
      requirement = this.fromDirectives(directives);
      this.ofType.set(type.name, requirement);
    }
    return requirement;
  }

  /** What selecting `fieldName` on `parentType` needs. */
  ofField(parentType: GraphQLNamedType, fieldName: string): Requirement {
    if (fieldName.startsWith('__')) return NO_REQUIREMENT;
    const key = `${parentType.name}.${fieldName}`;
    let requirement = this.ofFieldCache.get(key);
    if (requirement) return requirement;
    requirement = bothOf(this.typeRequirement(parentType), this.ownAndReturned(parentType, fieldName));
    if (isAbstractType(parentType)) {
      for (const possible of this.schema.getPossibleTypes(parentType)) {
        requirement = bothOf(requirement, bothOf(this.typeRequirement(possible), this.ownAndReturned(possible, fieldName)));
      }
    }
    this.ofFieldCache.set(key, requirement);
    return requirement;
  }

  private ownAndReturned(type: GraphQLNamedType, fieldName: string): Requirement {
    const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[fieldName] : undefined;
    if (!field) return NO_REQUIREMENT;
    return bothOf(this.fromDirectives(field.astNode?.directives), this.typeRequirement(getNamedType(field.type)));
  }

  private fromDirectives(directives: readonly ConstDirectiveNode[] | undefined): Requirement {
    if (!directives?.length || this.names.size === 0) return NO_REQUIREMENT;
    let authenticated = false;
    const scopes: string[][][] = [];
    const policies: string[][][] = [];
    for (const directive of directives) {
      const role = this.names.get(directive.name.value);
      if (role === 'authenticated') authenticated = true;
      else if (role === 'requiresScopes') scopes.push(nestedStrings(directive.arguments?.find((a) => a.name.value === 'scopes')?.value));
      else if (role === 'policy') {
        const lists = nestedStrings(directive.arguments?.find((a) => a.name.value === 'policies')?.value);
        for (const name of lists.flat()) this.policyNames.add(name);
        policies.push(lists);
      }
    }
    if (!authenticated && scopes.length === 0 && policies.length === 0) return NO_REQUIREMENT;
    return { authenticated, scopes, policies };
  }
}
