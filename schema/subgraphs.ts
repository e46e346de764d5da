import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'graphql';
import { SUBGRAPH_NAMES, subgraphUrl, type SubgraphName } from '../runtime/config';

/** Where each subgraph's SDL lives: the same file its server reads. */
export function subgraphSchemaPath(name: SubgraphName): string {
  return join(__dirname, '..', 'subgraphs', name, 'schema.graphql');
}

/** The four subgraphs as `@apollo/composition` service definitions. */
export function subgraphServiceDefinitions(overrides: Partial<Record<SubgraphName, string>> = {}) {
  return SUBGRAPH_NAMES.map((name) => {
    const sdl = overrides[name] ?? readFileSync(subgraphSchemaPath(name), 'utf8');
    return { name, url: subgraphUrl(name), typeDefs: parse(sdl) };
  });
}
