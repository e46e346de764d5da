import { composeServices } from '@apollo/composition';
import { Supergraph } from '@apollo/federation-internals';
import { parse, type GraphQLSchema } from 'graphql';
import { SUBGRAPHS, type SubgraphName } from '../../runtime/config';
import { findBreakingChanges, type BreakingChange } from './breaking-changes';
import { contractViolations } from './contract';
import { withEnforcedSecurityFeatures } from '../../gateway/authorization/security-features';

/** One operation of one client that used a coordinate, and when it was last seen. */
export interface CoordinateUse {
  coordinate: string;
  client: string;
  operation: string;
  lastSeen: Date;
}

/** Where recorded client usage is read from (the registry); absent when none is reachable. */
export interface UsageLookup {
  usesOf(coordinates: readonly string[], since: Date): Promise<CoordinateUse[]>;
}

export interface ProposalInput {
  /** Every subgraph's current SDL (the registry's current supergraph, or the repository's). */
  currentSubgraphs: Record<string, string>;
  /** The current supergraph, whose API schema clients use today. */
  currentSupergraphSdl: string;
  subgraph: string;
  sdl: string;
  usage?: UsageLookup;
  /** A breaking change is "in use" when an operation used it within this many days. */
  usageWindowDays: number;
  now?: Date;
}

export interface ProposalOutcome {
  ok: boolean;
  /** The composed supergraph when composition succeeded. */
  supergraphSdl?: string;
  /** Why the proposal fails (empty when ok). */
  failures: string[];
  /** Breaking changes nobody used in the window, and other things worth reading. */
  warnings: string[];
  breakingChanges: BreakingChange[];
}

export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(withEnforcedSecurityFeatures(supergraphSdl)).apiSchema().toGraphQLJSSchema();
}

/** Composes a set of subgraph SDLs; the URLs are the defaults (the gateway applies env overrides). */
export function composeSubgraphs(subgraphs: Record<string, string>): { supergraphSdl?: string; errors: string[] } {
  let definitions;
  try {
    definitions = Object.entries(subgraphs)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, sdl]) => ({ name, url: `http://127.0.0.1:${SUBGRAPHS[name as SubgraphName]?.port ?? 4000}/graphql`, typeDefs: parse(sdl) }));
  } catch (error) {
    return { errors: [`SDL does not parse: ${error instanceof Error ? error.message : String(error)}`] };
  }
  const result = composeServices(definitions);
  if (result.errors) return { errors: result.errors.map((e) => e.message) };
  return { supergraphSdl: result.supergraphSdl, errors: [] };
}

function describeUses(uses: CoordinateUse[]): string {
  const byOperation = new Map<string, CoordinateUse>();
  for (const use of uses) {
    const key = `${use.operation} (client ${use.client})`;
    const seen = byOperation.get(key);
    if (!seen || seen.lastSeen < use.lastSeen) byOperation.set(key, use);
  }
  return [...byOperation.entries()].map(([key, use]) => `${key}, last seen ${use.lastSeen.toISOString()}`).join('; ');
}

/**
 * The schema check: does the proposed SDL of one subgraph compose with the others, and does
 * the resulting API schema keep the protected contract and every operation clients ran in
 * the usage window? Breaking changes nobody used pass with a warning; without usage data
 * (no registry) a breaking change cannot be shown unused, so it fails.
 */
export async function checkProposal(input: ProposalInput): Promise<ProposalOutcome> {
  const composed = composeSubgraphs({ ...input.currentSubgraphs, [input.subgraph]: input.sdl });
  if (!composed.supergraphSdl) {
    return { ok: false, failures: composed.errors.map((e) => `composition: ${e}`), warnings: [], breakingChanges: [] };
  }
  const proposedApi = apiSchemaOf(composed.supergraphSdl);
  const failures: string[] = [];
  const warnings: string[] = [];
  const contract = contractViolations(proposedApi);
  for (const violation of contract) failures.push(`contract: ${violation.message} (protected by schema/api-contract.graphql)`);
  const protectedCoordinates = new Set(contract.map((v) => v.coordinate));

  const breakingChanges = findBreakingChanges(apiSchemaOf(input.currentSupergraphSdl), proposedApi);
  const toJudge = breakingChanges.filter((change) => !protectedCoordinates.has(change.coordinate));
  if (toJudge.length > 0 && !input.usage) {
    for (const change of toJudge) failures.push(`breaking: ${change.message}; client usage is unknown (no registry reachable), so it cannot be shown unused`);
  } else if (toJudge.length > 0 && input.usage) {
    const now = input.now ?? new Date();
    const since = new Date(now.getTime() - input.usageWindowDays * 86_400_000);
    const uses = await input.usage.usesOf([...new Set(toJudge.flatMap((c) => c.affects))], since);
    for (const change of toJudge) {
      const affecting = uses.filter((use) => change.affects.includes(use.coordinate));
      if (affecting.length > 0) failures.push(`breaking: ${change.message}; in use by ${describeUses(affecting)}`);
      else warnings.push(`breaking: ${change.message}; no operation used it in the last ${input.usageWindowDays} days`);
    }
  }
  return { ok: failures.length === 0, supergraphSdl: composed.supergraphSdl, failures, warnings, breakingChanges };
}
