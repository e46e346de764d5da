import { readFileSync } from 'node:fs';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler, useQueryPlan } from '@graphql-hive/router-runtime';
import { internalSigningSecret } from '../../runtime/config';
import { serveGateway, useBenchSigning } from './hive-common';
import { QUERY_PLAN_HEADER } from './query-plan';

/**
 * Hive Gateway with the Rust query planner for the comparison: the same runtime, server and
 * signing plugin as hive-gateway.ts, with `@graphql-hive/router-runtime`'s unified graph
 * handler, which plans with Hive Router's planner (a native module) and runs the plan with its
 * own executor. `useQueryPlan` adds a request's plan to its answer only when the request asks
 * (query-plan.ts), which the benchmark does once to prove the planner is in use; measured
 * requests never ask. Run as its own process by bench/gateways.ts.
 */
async function main(): Promise<void> {
  const secret = internalSigningSecret();
  // The cast is only for the types: router-runtime's bundled declarations carry their own copy of
  // the logger class (a #private field), which TypeScript will not take for gateway-runtime's.
  const exposeQueryPlan = useQueryPlan({ expose: (request) => request.headers.get(QUERY_PLAN_HEADER) === '1' }) as unknown as GatewayPlugin;
  const gateway = createGatewayRuntime({
    supergraph: readFileSync(process.env.BENCH_SUPERGRAPH_PATH!, 'utf8'),
    logging: 'error',
    unifiedGraphHandler,
    plugins: () => [useBenchSigning(secret), exposeQueryPlan],
  });
  await serveGateway(gateway, Number(process.env.BENCH_GATEWAY_PORT));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
