import { createServer } from 'node:net';
import { SUBGRAPH_NAMES } from '../../runtime/config';
import { ALL_SCOPES, signDevToken } from '../../runtime/dev-token';
import { graphqlRequest } from '../../scripts/gateway-client';
import { readGatewayConfig } from '../config';
import { startGateway, type RunningGateway } from '../server';

/**
 * A production-mode gateway whose subgraphs are all down (their ports have no listener):
 * every answer is a well-formed GraphQL response with SUBGRAPH_UNAVAILABLE on the missing
 * fields, without internals (no service name, no stack), and the breaker then fails fast.
 */
let gateway: RunningGateway;
let token: string;

function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  const subgraphUrls: Record<string, string> = {};
  for (const name of SUBGRAPH_NAMES) subgraphUrls[name] = `http://127.0.0.1:${await deadPort()}/graphql`;
  process.env.SUBGRAPH_BREAKER_FAILURES = '3';
  process.env.JWT_SECRET = 'a-production-like-secret-for-this-test-only';
  gateway = await startGateway({ ...readGatewayConfig(), port: 0, production: true, subgraphUrls });
  token = await signDevToken({ sub: 'ops', scope: ALL_SCOPES });
});

afterAll(async () => {
  await gateway?.stop();
});

test('a dead subgraph: null for its fields, SUBGRAPH_UNAVAILABLE with the path, nothing internal', async () => {
  const result = await graphqlRequest(gateway.url, '{ payment(id: "pay_000000000000000000000001") { id status } }', {}, token);
  expect(result.status).toBe(200);
  expect(result.data).toEqual({ payment: null });
  expect(result.errors).toEqual([
    { message: expect.stringContaining('"payments" is unavailable'), path: ['payment'], extensions: { code: 'SUBGRAPH_UNAVAILABLE', reason: 'unreachable' } },
  ]);
});

test('a mutation on a dead subgraph is answered the same way', async () => {
  const result = await graphqlRequest(gateway.url, 'mutation { cancelPayment(id: "pay_000000000000000000000001") { id } }', {}, token);
  expect(result.data).toBeNull();
  expect(result.errors?.map((e) => [e.path, e.extensions?.code])).toEqual([[['cancelPayment'], 'SUBGRAPH_UNAVAILABLE']]);
});

test('after consecutive failures the circuit opens and calls fail fast', async () => {
  const reasons: unknown[] = [];
  for (let i = 0; i < 4; i++) {
    const result = await graphqlRequest(gateway.url, '{ account(id: "acc_000000000000000000000001") { id } }', {}, token);
    reasons.push(result.errors?.[0].extensions?.reason);
  }
  expect(reasons.at(-1)).toBe('circuit-open');
  expect(reasons).toContain('unreachable');
});
