import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { readGatewayConfig } from '../../gateway/config';
import { formatGatewayError, startGateway, type RunningGateway } from '../../gateway/server';

/**
 * Differential testing: the same request goes to plain @apollo/gateway (the reference) and to
 * our gateway, both over the same composed supergraph and the same fixture subgraphs, and the
 * two answers must be equal byte for byte. Every case is sent down every path our gateway
 * has: a document's first request, its repeats (the fast lane), concurrent copies (subgraph
 * fetch batching) and other variable values.
 */

type SchemaModule = Extract<Parameters<typeof buildSubgraphSchema>[0], { typeDefs: unknown }>;

/** One subgraph of a fixture graph: its SDL beside its resolvers over in-memory data. */
export interface FixtureSubgraph {
  name: string;
  typeDefs: string;
  resolvers: NonNullable<SchemaModule['resolvers']>;
}

/** The federation `@link` a fixture subgraph's SDL starts with, importing these directives. */
export function federationLink(...directives: string[]): string {
  return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ${JSON.stringify(['@key', ...directives])})`;
}

export type Variables = Record<string, unknown>;

/** What a client reads of an answer: status, content type and the body text. */
export interface Answer {
  status: number;
  contentType: string | null;
  /** Also compared: the fast lane writes its own response head, and caches read this one. */
  cacheControl: string | null;
  body: string;
}

/** A reference answer with its body parsed, for a case's sanity checks. */
export interface ReferenceAnswer extends Answer {
  json: { data?: unknown; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[]; extensions?: Record<string, unknown> };
}

export interface DifferentialCase {
  name: string;
  query: string;
  operationName?: string;
  /**
   * At least two variable sets: the first is sent first, repeated and sent concurrently; the
   * others are the "different variable values" path, and all are mixed in one concurrent burst.
   */
  variables: [Variables, Variables, ...Variables[]];
  /** Checks that the reference answers (one per variable set) show what the case is about. */
  shows(reference: ReferenceAnswer[]): void;
}

export interface DifferentialGraph {
  referenceUrl: string;
  oursUrl: string;
  stop(): Promise<void>;
}

// Loopback only, on a port the system picks.
const LOOPBACK = { port: 0, host: '127.0.0.1' };

async function startSubgraph(subgraph: FixtureSubgraph): Promise<{ url: string; server: ApolloServer }> {
  const schema = buildSubgraphSchema({ typeDefs: parse(subgraph.typeDefs), resolvers: subgraph.resolvers });
  // Batches: our gateway sends concurrent fetches as HTTP batches. No stack traces: a real
  // subgraph in production sends none, and they would only be noise in a failure's diff.
  // Neither gateway asks for federated traces; the plugin would only log that it is on.
  const server = new ApolloServer({ schema, allowBatchedHttpRequests: true, includeStacktraceInErrorResponses: false, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(server, { listen: LOOPBACK });
  return { url, server };
}

/**
 * Starts the fixture subgraphs, composes them (each `join__graph` URL is its server's real
 * port), writes the supergraph to a temporary file and starts both gateways on it.
 */
async function startDifferentialGraph(subgraphs: FixtureSubgraph[]): Promise<DifferentialGraph> {
  const servers: ApolloServer[] = [];
  let ours: RunningGateway | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'paygraph-differential-'));
  const stop = async () => {
    await ours?.stop();
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const services = [];
    for (const subgraph of subgraphs) {
      const { url, server } = await startSubgraph(subgraph);
      servers.push(server);
      services.push({ name: subgraph.name, url, typeDefs: parse(subgraph.typeDefs) });
    }
    const composed = composeServices(services);
    if (!composed.supergraphSdl) throw new Error(`fixture graph does not compose:\n${composed.errors?.map((e) => e.message).join('\n')}`);
    const supergraphPath = join(dir, 'supergraph.graphql');
    writeFileSync(supergraphPath, composed.supergraphSdl);

    const config = readGatewayConfig();
    ours = await startGateway({
      ...config,
      port: 0,
      supergraphPath,
      schema: { source: 'file', pollMs: 60_000, usageReporting: false, usageFlushMs: 10_000 },
      // The supergraph's URLs are under test: no SUBGRAPH_URLS from the environment replaces them.
      subgraphUrls: {},
      // The corpus sends hundreds of anonymous requests in seconds: the rate limit is not under test.
      rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
    });
    // The reference formats errors as ours does, so the only difference is the execution path.
    const reference = new ApolloServer({
      gateway: new ApolloGateway({ supergraphSdl: composed.supergraphSdl }),
      formatError: formatGatewayError(config.production),
      includeStacktraceInErrorResponses: !config.production,
    });
    servers.push(reference);
    const { url: referenceUrl } = await startStandaloneServer(reference, { listen: LOOPBACK });
    return { referenceUrl, oursUrl: ours.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Stack traces name each gateway's own call sites, so `errors[].extensions.stacktrace` is the
 * one thing removed before comparing. The bodies are Apollo's compact JSON (JSON.stringify and
 * a newline): re-printing one without its stack traces changes nothing else in it.
 */
function withoutStacktraces(body: string): string {
  if (!body.includes('"stacktrace"')) return body;
  const parsed = JSON.parse(body) as { errors?: { extensions?: Record<string, unknown> }[] };
  for (const error of parsed.errors ?? []) delete error.extensions?.stacktrace;
  return JSON.stringify(parsed) + (body.endsWith('\n') ? '\n' : '');
}

async function send(url: string, query: string, operationName: string | undefined, variables: Variables): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, ...(operationName ? { operationName } : {}), variables }),
  });
  const headers = response.headers;
  return { status: response.status, contentType: headers.get('content-type'), cacheControl: headers.get('cache-control'), body: withoutStacktraces(await response.text()) };
}

/** Ours must equal the reference; the label (case and path) is the key, so a failure names both. */
function expectSame(label: string, ours: Answer, reference: Answer): void {
  expect({ [label]: ours }).toEqual({ [label]: reference });
}

const CONCURRENT = 20;
const REPEATS = 3;

/**
 * One describe per case, its tests in the order the paths must be taken: the reference's
 * sanity check, then ours first, repeated, concurrent, with other variables. Jest runs a
 * file's tests in order; the first-request test must run before the repeats to mean anything.
 */
function describeCase(graph: () => DifferentialGraph, testCase: DifferentialCase): void {
  const { name, query, operationName, variables } = testCase;
  let references: Promise<ReferenceAnswer[]> | undefined;
  // The reference answers each variable set once, before ours sees the document at all.
  const referenceAnswers = () =>
    (references ??= Promise.all(
      variables.map(async (vars) => {
        const answer = await send(graph().referenceUrl, query, operationName, vars);
        return { ...answer, json: JSON.parse(answer.body) as ReferenceAnswer['json'] };
      }),
    ));
  const reference = async (index: number): Promise<Answer> => {
    const { json: _parsed, ...answer } = (await referenceAnswers())[index];
    return answer;
  };
  const ours = (vars: Variables, text = query) => send(graph().oursUrl, text, operationName, vars);
  const concurrently = (count: number, request: (i: number) => Promise<Answer>) => Promise.all(Array.from({ length: count }, (_, i) => request(i)));

  describe(name, () => {
    test('the reference answer shows what the case is about', async () => {
      testCase.shows(await referenceAnswers());
    });

    test('first request', async () => {
      expectSame(`${name} › first request`, await ours(variables[0]), await reference(0));
    });

    test(`${REPEATS} repeats (the fast lane)`, async () => {
      for (let i = 1; i <= REPEATS; i++) expectSame(`${name} › repeat ${i} of ${REPEATS}`, await ours(variables[0]), await reference(0));
    });

    test(`${CONCURRENT} concurrent copies (batched subgraph fetches)`, async () => {
      const answers = await concurrently(CONCURRENT, () => ours(variables[0]));
      const expected = await reference(0);
      answers.forEach((answer, i) => expectSame(`${name} › concurrent copy ${i + 1} of ${CONCURRENT}`, answer, expected));
    });

    test(`${CONCURRENT} concurrent first requests of an unseen text of the document`, async () => {
      // A trailing comment makes a text no cache has seen; the answer cannot depend on it.
      const unseen = `${query}\n# concurrent first requests`;
      const answers = await concurrently(CONCURRENT, () => ours(variables[0], unseen));
      const expected = await reference(0);
      answers.forEach((answer, i) => expectSame(`${name} › concurrent first request ${i + 1} of ${CONCURRENT}`, answer, expected));
    });

    test('other variable values, each sent twice', async () => {
      for (let v = 1; v < variables.length; v++) {
        const expected = await reference(v);
        for (let i = 1; i <= 2; i++) expectSame(`${name} › variables ${JSON.stringify(variables[v])} send ${i}`, await ours(variables[v]), expected);
      }
    });

    test(`${CONCURRENT} concurrent requests mixing the variable sets`, async () => {
      const answers = await concurrently(CONCURRENT, (i) => ours(variables[i % variables.length]));
      for (const [i, answer] of answers.entries()) {
        const v = i % variables.length;
        expectSame(`${name} › concurrent request ${i + 1} of ${CONCURRENT}, variables ${JSON.stringify(variables[v])}`, answer, await reference(v));
      }
    });
  });
}

/**
 * A fixture graph's describe: its servers and gateways up for its cases, closed after them.
 * `more` adds tests of its own on the running graph.
 */
export function describeGraph(title: string, subgraphs: FixtureSubgraph[], cases: DifferentialCase[], more?: (graph: () => DifferentialGraph) => void): void {
  describe(title, () => {
    let graph: DifferentialGraph | undefined;
    beforeAll(async () => {
      graph = await startDifferentialGraph(subgraphs);
    }, 60_000);
    afterAll(async () => {
      await graph?.stop();
    });
    const names = new Set(cases.map((c) => c.name));
    if (names.size !== cases.length) throw new Error(`${title}: case names must be unique`);
    const running = () => {
      if (!graph) throw new Error(`${title}: the fixture graph did not start`);
      return graph;
    };
    for (const testCase of cases) describeCase(running, testCase);
    more?.(running);
  });
}
