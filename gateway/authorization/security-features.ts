import { Kind, parse, print, visit, type ConstDirectiveNode } from 'graphql';

/**
 * The authorization specs composition links into a supergraph `for: SECURITY`.
 * @apollo/gateway refuses any SECURITY feature it does not know, so that a gateway that cannot
 * enforce it fails closed. This gateway enforces these three itself, before planning (the
 * authorization step, always registered in server.ts), so it hands the gateway a supergraph
 * whose links to them carry no purpose; everything else about the links stays.
 */
export const ENFORCED_SECURITY_SPECS: readonly string[] = [
  'https://specs.apollo.dev/authenticated/v0.1',
  'https://specs.apollo.dev/requiresScopes/v0.1',
  'https://specs.apollo.dev/policy/v0.1',
];

function isEnforcedSecurityLink(directive: ConstDirectiveNode): boolean {
  if (directive.name.value !== 'link') return false;
  const url = directive.arguments?.find((a) => a.name.value === 'url')?.value;
  const purpose = directive.arguments?.find((a) => a.name.value === 'for')?.value;
  return url?.kind === Kind.STRING && ENFORCED_SECURITY_SPECS.includes(url.value) && purpose?.kind === Kind.ENUM && purpose.value === 'SECURITY';
}

/** The supergraph as the gateway loads it: the enforced specs' links without `for: SECURITY`. */
export function withEnforcedSecurityFeatures(supergraphSdl: string): string {
  if (!ENFORCED_SECURITY_SPECS.some((url) => supergraphSdl.includes(url))) return supergraphSdl;
  const document = parse(supergraphSdl);
  let changed = false;
  const unpurposed = visit(document, {
    Directive: (node) => {
      if (!isEnforcedSecurityLink(node as ConstDirectiveNode)) return undefined;
      changed = true;
      return { ...node, arguments: node.arguments?.filter((a) => a.name.value !== 'for') };
    },
  });
  return changed ? print(unpurposed) : supergraphSdl;
}
