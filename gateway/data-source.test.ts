import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { parse } from 'graphql';
import type { Identity } from '../runtime/identity';
import { decodeIdentity, verifyRequest } from '../runtime/signing';
import { SignedDataSource } from './data-source';
import type { ResilienceConfig } from './resilience/config';

/**
 * The data source's side of batching, over real HTTP against a small subgraph stand-in:
 * one signed request for concurrent reads, each operation naming its own caller when they
 * are several (the batching rules themselves are tested in subgraph-batching.test.ts),
 * mutations always alone, and a subgraph that refuses batches (an older version during a
 * rollout) still answered, one fetch per request.
 */
const SECRET = 'data-source-test-secret-of-at-least-32-chars';
const RESILIENCE: ResilienceConfig = { subgraphTimeoutMs: {}, retries: 0, retryBackoffMs: 1, breakerFailures: 100, breakerOpenMs: 1000 };
const QUERY = 'query Echo__accounts__0($id:ID!){echo(id:$id)}';
const MUTATION = 'mutation Touch__accounts__0($id:ID!){touch(id:$id)}';
const alice: Identity = { subject: 'alice', scopes: ['accounts:read'] };
const bob: Identity = { subject: 'bob', scopes: ['accounts:read'], customerId: 'cus_bob' };

const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

interface Received {
  body: unknown;
  /** The request's signed identity. */
  identity?: Identity;
  /** In a batch: the subject each operation names in extensions.paygraph. */
  callers?: string[];
}

/** Answers each operation with its own `id`; as a batch (a JSON array) only if `batches`. */
async function standIn(batches: boolean): Promise<{ source: SignedDataSource; received: Received[] }> {
  const received: Received[] = [];
  const answer = (operation: { variables: { id: string } }) => ({ data: { echo: `echo ${operation.variables.id}` } });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const verified = verifyRequest(SECRET, { method: 'POST', path: '/graphql', body: raw, headers: req.headers as IncomingHttpHeaders });
      const body = JSON.parse(raw.toString('utf8'));
      const callers = Array.isArray(body) ? body.map((op: { extensions?: { paygraph?: { identity?: string } } }) => decodeIdentity(op.extensions?.paygraph?.identity)?.subject ?? '?') : undefined;
      received.push({ body, identity: verified.ok ? verified.identity : undefined, callers });
      // Slow enough that concurrent fetches meet while one request is out.
      setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        if (!Array.isArray(body)) return void res.end(JSON.stringify(answer(body)));
        if (!batches) return void res.writeHead(400).end(JSON.stringify({ errors: [{ message: 'Operation batching disabled.' }] }));
        res.end(JSON.stringify(body.map(answer)));
      }, 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  // One batch in flight: what comes while it is out waits for the next.
  return { source: new SignedDataSource({ url, subgraph: 'accounts', signingSecret: SECRET, timeoutMs: 5000, resilience: RESILIENCE, batching: { maxInFlight: 1, maxFetches: 64 } }), received };
}

function fetchThrough(source: SignedDataSource, query: string, id: string, identity = alice) {
  return source.process({
    // GraphQLDataSourceRequestKind.INCOMING_OPERATION: the enum is not exported from the package root.
    kind: 'incoming operation' as GraphQLDataSourceProcessOptions['kind'],
    request: { query, variables: { id } },
    incomingRequestContext: {} as never,
    context: { identity, requestId: `req-${id}` },
    document: parse(query),
    pathInIncomingRequest: { path: [] } as never,
  });
}


test('concurrent reads of one caller go in one signed batch; each gets its own answer', async () => {
  const { source, received } = await standIn(true);
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const answers = await Promise.all(ids.map((id) => fetchThrough(source, QUERY, id)));
  expect(answers.map((a) => a.data)).toEqual(ids.map((id) => ({ echo: `echo ${id}` })));
  // The first went alone at once; the four that came while it was out went together.
  expect(received.map((r) => (Array.isArray(r.body) ? r.body.length : 1))).toEqual([1, 4]);
  expect(received.every((r) => r.identity?.subject === 'alice')).toBe(true);
});

test("several callers' reads share a batch, each operation naming its own caller, the request signed as nobody", async () => {
  const { source, received } = await standIn(true);
  const answers = await Promise.all([fetchThrough(source, QUERY, 'a', alice), fetchThrough(source, QUERY, 'b', bob), fetchThrough(source, QUERY, 'c', alice)]);
  expect(answers.map((a) => a.data)).toEqual([{ echo: 'echo a' }, { echo: 'echo b' }, { echo: 'echo c' }]);
  expect(received[0].identity?.subject).toBe('alice');
  expect(received[1].callers).toEqual(['bob', 'alice']);
  expect(received[1].identity?.subject).toBe('anonymous');
});

test('mutations never batch', async () => {
  const { source, received } = await standIn(true);
  await Promise.all(['a', 'b', 'c'].map((id) => fetchThrough(source, MUTATION, id)));
  expect(received.map((r) => Array.isArray(r.body))).toEqual([false, false, false]);
});

test('a subgraph that refuses batches gets each fetch alone, now and after', async () => {
  const { source, received } = await standIn(false);
  const first = await Promise.all(['a', 'b', 'c'].map((id) => fetchThrough(source, QUERY, id)));
  expect(first.map((a) => a.data)).toEqual([{ echo: 'echo a' }, { echo: 'echo b' }, { echo: 'echo c' }]);
  // a alone; b and c as a refused batch, then each alone.
  expect(received.map((r) => (Array.isArray(r.body) ? r.body.length : 1))).toEqual([1, 2, 1, 1]);
  received.length = 0;
  const later = await Promise.all(['d', 'e'].map((id) => fetchThrough(source, QUERY, id)));
  expect(later.map((a) => a.errors)).toEqual([undefined, undefined]);
  expect(received.map((r) => Array.isArray(r.body))).toEqual([false, false]);
});
