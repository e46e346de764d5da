import { readFileSync } from 'node:fs';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { internalSigningSecret } from '../../runtime/config';
import { serveGateway, useBenchSigning } from './hive-common';

/**
 * Hive Gateway for the comparison: the gateway runtime on Node's HTTP server with its
 * defaults (its JavaScript federation runtime), given the same supergraph. Its one plugin signs
 * each subgraph call the way the subgraphs require. Run as its own process by bench/gateways.ts.
 */
async function main(): Promise<void> {
  const secret = internalSigningSecret();
  const gateway = createGatewayRuntime({
    supergraph: readFileSync(process.env.BENCH_SUPERGRAPH_PATH!, 'utf8'),
    logging: 'error',
    plugins: () => [useBenchSigning(secret)],
  });
  await serveGateway(gateway, Number(process.env.BENCH_GATEWAY_PORT));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
