import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { envInt, envOptional, envString } from '../runtime/config';
import { ALL_SCOPES, signDevToken } from '../runtime/dev-token';
import { EmbeddedDbUnavailable, ensureFerretDbBinary } from '../runtime/embedded-db/build';
import { launchStack, type RunningStack } from './stack';
import { seedDemoData } from './seed';

/**
 * `npm start`: the embedded database (or MONGODB_URI), four subgraphs and the gateway as
 * separate processes, demo data seeded once, and how to query it. Ctrl-C stops everything.
 */
async function main(): Promise<void> {
  const mongoUri = envOptional('MONGODB_URI');
  const dataDir = envString('PAYGRAPH_DATA_DIR', join(__dirname, '..', '.data', 'ferretdb'));
  if (!mongoUri) {
    try {
      ensureFerretDbBinary((line) => console.log(line));
    } catch (error) {
      if (error instanceof EmbeddedDbUnavailable) {
        console.error(error.message);
        process.exit(1);
      }
      throw error;
    }
    mkdirSync(dataDir, { recursive: true });
  }

  let stack: RunningStack | undefined;
  let shuttingDown = false;
  const shutdown = async (exitCode: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log('\nstopping paygraph…');
    await stack?.stop();
    console.log('stopped.');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  stack = await launchStack({
    mongoUri,
    dataDir,
    gatewayPort: envInt('GATEWAY_PORT', 4000, { max: 65535 }),
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    stdio: 'inherit',
    log: (line) => console.log(line),
    onUnexpectedExit: (name, reason) => {
      console.error(`paygraph: ${name} ${reason}; stopping the other processes.`);
      void shutdown(1);
    },
  });

  const token = await signDevToken({ sub: 'demo-operator', scope: ALL_SCOPES });
  let seed;
  try {
    seed = await seedDemoData(stack.gatewayUrl, stack.mongoUri, token);
  } catch (error) {
    console.error(`paygraph: seeding the demo data failed: ${error instanceof Error ? error.message : String(error)}`);
    return shutdown(1);
  }
  const gatewayUrl = stack.gatewayUrl.replace('127.0.0.1', 'localhost');
  console.log(`
paygraph is running.
  gateway     ${gatewayUrl}   (HTTP and graphql-ws)
  console     ${gatewayUrl.replace(/\/graphql$/, '')}/#token=${token}
  graphiql    ${gatewayUrl.replace(/\/graphql$/, '')}/graphiql   (not in production)
  metrics     /metrics, /healthz and /readyz on every process
  subgraphs   ${Object.entries(stack.subgraphUrls).map(([name, url]) => `${name} ${url}`).join('\n              ')}
  database    ${mongoUri ? 'MONGODB_URI' : `embedded FerretDB, data in ${dataDir}`}
  schemas     ${mongoUri ? '' : `MONGODB_URI=${stack.mongoUri} `}npm run schema:status   (registry: supergraph version, rejections)
  demo data   ${seed.seeded ? 'seeded' : 'already present'} (${seed.customerIds.length} customers, ${seed.accountIds.length} accounts)

Try it (a demo operator token with every scope, valid 24h):
  export TOKEN=${token}
  curl -s ${gatewayUrl} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ customer(id: \\"${seed.customerIds[0]}\\") { name kyc { tier } accounts { id balance { amount currency } } } }"}'

Make other tokens with: npm run token -- --sub alice --scope "payments:read payments:write" --customer <customerId>
Ctrl-C stops every process and the database.
`);
}

main().catch((error: unknown) => {
  console.error(`paygraph failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
