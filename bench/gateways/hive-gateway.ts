import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { internalSigningSecret } from '../../runtime/config';
import { benchSignature } from './identity';

/**
 * Hive Gateway for the comparison: the gateway runtime on Node's HTTP server with its
 * defaults, given the same supergraph. Its one plugin signs each subgraph call the way the
 * subgraphs require. Run as its own process by bench/gateways.ts.
 */
function signingPlugin(secret: string): GatewayPlugin {
  return {
    onFetch({ url, options, setOptions }) {
      const body = typeof options.body === 'string' ? options.body : '';
      setOptions({ ...options, headers: { ...(options.headers as Record<string, string>), ...benchSignature(secret, url, body, options.method ?? 'POST') } });
    },
  };
}

async function main(): Promise<void> {
  const secret = internalSigningSecret();
  const port = Number(process.env.BENCH_GATEWAY_PORT);
  const gateway = createGatewayRuntime({
    supergraph: readFileSync(process.env.BENCH_SUPERGRAPH_PATH!, 'utf8'),
    logging: 'error',
    plugins: () => [signingPlugin(secret)],
  });
  const server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  console.log(`READY http://127.0.0.1:${port}/graphql`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
