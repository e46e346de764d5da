import { createServer, type RequestListener } from 'node:http';
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { benchSignature } from './identity';

/**
 * What the two Hive Gateway targets (hive-gateway.ts, hive-router-gateway.ts) share besides the
 * runtime: the plugin that signs subgraph calls and the Node server they run on.
 */

/** Signs each subgraph call the way the subgraphs require (they answer 401 without it). */
export function useBenchSigning(secret: string): GatewayPlugin {
  return {
    onFetch({ url, options, setOptions }) {
      const body = typeof options.body === 'string' ? options.body : '';
      setOptions({ ...options, headers: { ...(options.headers as Record<string, string>), ...benchSignature(secret, url, body, options.method ?? 'POST') } });
    },
  };
}

/** Serves the gateway on Node's HTTP server and prints the READY line bench/gateways.ts waits for. */
export async function serveGateway(gateway: RequestListener, port: number): Promise<void> {
  const server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  // The runtime's own SIGTERM handler disposes the gateway but leaves this server listening, and
  // the process with it: the benchmark then killed it 10 s later, and --profile lost its profile.
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  console.log(`READY http://127.0.0.1:${port}/graphql`);
}
