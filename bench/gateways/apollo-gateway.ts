import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { withEnforcedSecurityFeatures } from '../../gateway/authorization/security-features';
import { internalSigningSecret } from '../../runtime/config';
import { benchSignature } from './identity';

/**
 * Plain Apollo Gateway for the comparison: @apollo/gateway + Apollo Server standalone with
 * their defaults. The one addition is the fetcher that signs each subgraph call, without
 * which the subgraphs answer 401. Run as its own process by bench/gateways.ts.
 */
type Fetcher = RemoteGraphQLDataSource['fetcher'];

async function main(): Promise<void> {
  const secret = internalSigningSecret();
  const port = Number(process.env.BENCH_GATEWAY_PORT);
  const signingFetcher = (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const body = init.body ?? '';
    return fetch(url, { ...init, headers: { ...init.headers, ...benchSignature(secret, url, body, init.method) }, body } as RequestInit);
  }) as unknown as Fetcher;
  const gateway = new ApolloGateway({
    // Plain @apollo/gateway refuses the authorization specs' `for: SECURITY` links; it acts for one fixed identity here, so it loads them unenforced.
    supergraphSdl: withEnforcedSecurityFeatures(readFileSync(process.env.BENCH_SUPERGRAPH_PATH!, 'utf8')),
    buildService: ({ url }) => new RemoteGraphQLDataSource({ url, fetcher: signingFetcher }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' } });
  console.log(`READY ${url}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
