import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_PATH } from './composition';

/**
 * `npm run schema:compose` writes schema/supergraph.graphql from the subgraphs' SDL.
 * `--check` (part of `npm test`) writes nothing and fails when the committed file is stale,
 * composition fails, or composition gives a hint nobody acknowledged.
 */
function main(): number {
  const check = process.argv.includes('--check');
  const outcome = composeSupergraph();
  for (const error of outcome.errors) console.error(`composition error: ${error}`);
  for (const hint of outcome.unacknowledgedHints) console.error(`unacknowledged composition hint: ${hint}`);
  if (!outcome.supergraphSdl || outcome.unacknowledgedHints.length > 0) return 1;
  if (check) {
    const committed = existsSync(SUPERGRAPH_PATH) ? readFileSync(SUPERGRAPH_PATH, 'utf8') : '';
    if (committed !== outcome.supergraphSdl) {
      console.error('schema/supergraph.graphql is stale: run `npm run schema:compose` and commit it');
      return 1;
    }
    console.log('schema/supergraph.graphql is up to date');
    return 0;
  }
  writeFileSync(SUPERGRAPH_PATH, outcome.supergraphSdl);
  console.log(`wrote ${SUPERGRAPH_PATH}`);
  return 0;
}

process.exitCode = main();
