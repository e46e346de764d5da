import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import type { SubgraphName } from '../runtime/config';
import { subgraphServiceDefinitions } from './subgraphs';

export const SUPERGRAPH_PATH = join(__dirname, 'supergraph.graphql');
const ACKNOWLEDGED_HINTS_PATH = join(__dirname, 'acknowledged-hints.json');

export interface CompositionOutcome {
  supergraphSdl?: string;
  errors: string[];
  /** Hints not listed in acknowledged-hints.json: each one fails the check. */
  unacknowledgedHints: string[];
}

interface AcknowledgedHint {
  code: string;
  /** A substring of the hint's message, so one acknowledgement covers one situation. */
  contains: string;
  why: string;
}

function acknowledgedHints(): AcknowledgedHint[] {
  return JSON.parse(readFileSync(ACKNOWLEDGED_HINTS_PATH, 'utf8')) as AcknowledgedHint[];
}

/** Composes the subgraphs' SDL (optionally with one subgraph's SDL replaced by a proposal). */
export function composeSupergraph(overrides: Partial<Record<SubgraphName, string>> = {}): CompositionOutcome {
  const result = composeServices(subgraphServiceDefinitions(overrides));
  const acknowledged = acknowledgedHints();
  const unacknowledgedHints = (result.hints ?? [])
    .filter((hint) => !acknowledged.some((a) => a.code === hint.definition.code && hint.message.includes(a.contains)))
    .map((hint) => `${hint.definition.code}: ${hint.message}`);
  if (result.errors) {
    return { errors: result.errors.map((error) => error.message), unacknowledgedHints };
  }
  return { supergraphSdl: result.supergraphSdl, errors: [], unacknowledgedHints };
}
