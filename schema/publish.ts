import { readFileSync } from 'node:fs';
import { SUBGRAPH_NAMES } from '../runtime/config';
import { misuse, openRegistryForCli, runCli } from './registry/cli-support';
import { readUsageWindowDays } from './registry/config';
import { publishSubgraph } from './registry/publish';

const USAGE = 'usage: npm run schema:publish -- <subgraph> <path-to-sdl> [--version <label>]';

/**
 * `npm run schema:publish -- <subgraph> <path-to-sdl>`: what a subgraph does on start, from
 * CI or by hand. Exit 0 when published (or unchanged), 1 when rejected, 2 otherwise.
 */
async function main(argv: string[]): Promise<number> {
  const versionAt = argv.indexOf('--version');
  const version = versionAt >= 0 ? argv[versionAt + 1] : undefined;
  if (versionAt >= 0) argv = argv.filter((_, i) => i !== versionAt && i !== versionAt + 1);
  const [subgraph, path] = argv;
  if (!subgraph || !path || (versionAt >= 0 && !version)) return misuse(USAGE);
  if (!(SUBGRAPH_NAMES as string[]).includes(subgraph)) return misuse(`unknown subgraph ${JSON.stringify(subgraph)}: one of ${SUBGRAPH_NAMES.join(', ')}`);
  const sdl = readFileSync(path, 'utf8');
  const registry = await openRegistryForCli();
  if ('unavailable' in registry) return misuse(`cannot publish: ${registry.unavailable}`);
  try {
    const outcome = await publishSubgraph(registry.store, { subgraph, sdl, version, usageWindowDays: readUsageWindowDays() });
    if (outcome.status === 'rejected') {
      console.log(`REJECTED (rejection ${outcome.rejection}); supergraph version ${outcome.version} stays current:`);
      for (const reason of outcome.reasons) console.log(`  ${reason}`);
      return 1;
    }
    if (outcome.status === 'unchanged') console.log(`unchanged: ${subgraph}'s SDL is already in supergraph version ${outcome.version}`);
    else {
      console.log(`published: supergraph version ${outcome.version}`);
      for (const warning of outcome.warnings) console.log(`  WARN ${warning}`);
    }
    return 0;
  } finally {
    await registry.close();
  }
}

runCli(() => main(process.argv.slice(2)));
