import { readFileSync } from 'node:fs';
import { SUBGRAPH_NAMES } from '../runtime/config';
import { checkProposal } from './checks/proposal';
import { repositoryBaseline, sdlsOf } from './registry/base';
import { misuse, openRegistryForCli, runCli } from './registry/cli-support';
import { readUsageWindowDays } from './registry/config';
import { registryUsage } from './registry/usage-store';

const USAGE = 'usage: npm run schema:check -- <subgraph> <path-to-sdl> [--window-days <days>]';

/**
 * `npm run schema:check -- <subgraph> <path-to-sdl>`: would this SDL, published, compose,
 * keep the protected contract and break no operation clients ran in the usage window?
 * Exit 0 when it passes (warnings allowed), 1 when it fails, 2 when called wrongly.
 */
async function main(argv: string[]): Promise<number> {
  const windowAt = argv.indexOf('--window-days');
  let windowDays = readUsageWindowDays();
  if (windowAt >= 0) {
    windowDays = Number(argv[windowAt + 1]);
    argv = argv.filter((_, i) => i !== windowAt && i !== windowAt + 1);
    if (!Number.isInteger(windowDays) || windowDays < 0) return misuse(`--window-days needs a whole number of days\n${USAGE}`);
  }
  const [subgraph, path] = argv;
  if (!subgraph || !path) return misuse(USAGE);
  if (!(SUBGRAPH_NAMES as string[]).includes(subgraph)) return misuse(`unknown subgraph ${JSON.stringify(subgraph)}: one of ${SUBGRAPH_NAMES.join(', ')}\n${USAGE}`);
  let sdl: string;
  try {
    sdl = readFileSync(path, 'utf8');
  } catch (error) {
    return misuse(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }

  const registry = await openRegistryForCli();
  try {
    let against = repositoryBaseline();
    let description = "the repository's subgraph SDLs and committed supergraph";
    if ('unavailable' in registry) {
      console.log(`note: ${registry.unavailable}.\n      Checking against ${description}, without client usage: any breaking change fails.`);
    } else {
      const current = await registry.store.currentSupergraph();
      if (current) {
        against = current;
        description = `registry supergraph version ${current._id} (${registry.where})`;
      } else {
        description = `${description} (the registry at ${registry.where} is empty)`;
      }
    }
    console.log(`schema check: ${subgraph} ← ${path}\n  against ${description}; usage window ${windowDays} days`);
    const outcome = await checkProposal({
      currentSubgraphs: sdlsOf(against.subgraphs),
      currentSupergraphSdl: against.supergraphSdl,
      subgraph,
      sdl,
      usage: 'unavailable' in registry ? undefined : registryUsage(registry.store),
      usageWindowDays: windowDays,
    });
    if (outcome.supergraphSdl) console.log('  ok   composes with the other subgraphs');
    for (const failure of outcome.failures) console.log(`  FAIL ${failure}`);
    for (const warning of outcome.warnings) console.log(`  WARN ${warning}`);
    if (outcome.supergraphSdl && outcome.breakingChanges.length === 0) console.log('  ok   no breaking change');
    console.log(outcome.ok ? `PASS${outcome.warnings.length ? ` with ${outcome.warnings.length} warning(s)` : ''}` : `FAIL: ${outcome.failures.length} problem(s)`);
    return outcome.ok ? 0 : 1;
  } finally {
    if (!('unavailable' in registry)) await registry.close();
  }
}

runCli(() => main(process.argv.slice(2)));
