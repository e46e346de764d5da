import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse, print } from 'graphql';
import { SUBGRAPH_NAMES } from '../../runtime/config';
import { SUPERGRAPH_PATH } from '../composition';
import { subgraphSchemaPath } from '../subgraphs';
import type { PublishedSubgraph } from './store';

/** sha256 of the SDL as graphql-js prints it, so formatting and comments are not changes. */
export function sdlDigest(sdl: string): string {
  let normalised = sdl;
  try {
    normalised = print(parse(sdl, { noLocation: true }));
  } catch {
    // An unparsable SDL keeps its raw digest; composition will reject it with the reason.
  }
  return createHash('sha256').update(normalised).digest('hex');
}

export interface Baseline {
  supergraphSdl: string;
  subgraphs: Record<string, PublishedSubgraph>;
}

/**
 * What an empty registry starts from: the repository's subgraph SDLs and the committed
 * supergraph composed from them (`npm run schema:verify` keeps the two in step), the same
 * graph the gateway serves in file mode.
 */
export function repositoryBaseline(): Baseline {
  const publishedAt = new Date(0);
  const subgraphs: Record<string, PublishedSubgraph> = {};
  for (const name of SUBGRAPH_NAMES) {
    const sdl = readFileSync(subgraphSchemaPath(name), 'utf8');
    subgraphs[name] = { sdl, digest: sdlDigest(sdl), version: 'base', publishedAt };
  }
  return { supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'), subgraphs };
}

export function sdlsOf(subgraphs: Record<string, PublishedSubgraph>): Record<string, string> {
  return Object.fromEntries(Object.entries(subgraphs).map(([name, published]) => [name, published.sdl]));
}
