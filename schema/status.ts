import { openRegistryForCli, runCli } from './registry/cli-support';

/**
 * `npm run schema:status`: the registry's current supergraph version, each subgraph's
 * published version, and the latest rejections with their reasons. Exit 2 without a registry.
 */
async function main(): Promise<number> {
  const registry = await openRegistryForCli();
  if ('unavailable' in registry) {
    console.error(`schema:status needs the registry: ${registry.unavailable}`);
    return 2;
  }
  try {
    const current = await registry.store.currentSupergraph();
    console.log(`schema registry: ${registry.where}`);
    if (!current) {
      console.log('  no supergraph published yet (gateways serve the SUPERGRAPH_PATH file)');
    } else {
      console.log(`  current supergraph: version ${current._id}, from ${current.cause.subgraph} ${current.cause.version}, at ${current.createdAt.toISOString()}`);
      for (const [name, subgraph] of Object.entries(current.subgraphs).sort(([a], [b]) => a.localeCompare(b))) {
        const when = subgraph.version === 'base' ? 'the repository\'s SDL' : `published ${subgraph.publishedAt.toISOString()}`;
        console.log(`    ${name.padEnd(11)} version ${subgraph.version.padEnd(14)} sha256 ${subgraph.digest.slice(0, 12)}  ${when}`);
      }
      for (const warning of current.warnings) console.log(`    warning: ${warning}`);
    }
    const rejections = await registry.store.recentRejections(5);
    if (rejections.length === 0) console.log('  rejections: none');
    for (const rejection of rejections) {
      console.log(`  rejection ${rejection._id}: ${rejection.subgraph} ${rejection.version} at ${rejection.rejectedAt.toISOString()} (version ${rejection.currentVersion} stayed current)`);
      for (const reason of rejection.reasons) console.log(`    ${reason}`);
    }
    return 0;
  } finally {
    await registry.close();
  }
}

runCli(main);
