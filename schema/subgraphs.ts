import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { SUBGRAPH_NAMES, SUBGRAPHS, type SubgraphName } from '../runtime/config';

/** Where each subgraph's SDL lives: the same file its server reads. */
export function subgraphSchemaPath(name: SubgraphName): string {
  return join(__dirname, '..', 'subgraphs', name, 'schema.graphql');
}

/**
 * The four subgraphs as `@apollo/composition` service definitions. URLs are the defaults so
 * the committed supergraph never depends on a shell's env; the gateway applies env overrides.
 */
export function subgraphServiceDefinitions(overrides: Partial<Record<SubgraphName, string>> = {}) {
  return SUBGRAPH_NAMES.map((name) => {
    const sdl = overrides[name] ?? readFileSync(subgraphSchemaPath(name), 'utf8');
    return { name, url: `http://127.0.0.1:${SUBGRAPHS[name].port}/graphql`, typeDefs: parse(sdl) };
  });
}
