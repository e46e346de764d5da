import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, PaygraphError } from '../runtime/errors';
import { ANONYMOUS } from '../runtime/identity';
import { createLogger, type Logger } from '../runtime/logger';
import { metricsHandler } from '../runtime/metrics';
import { GraphQLError } from 'graphql';
import { createIdentityVerifier } from './auth';
import { armorValidation, checkRequestBody, limitRequest, loadTrustedDocuments, RateLimiter } from './limits';
import { graphqlHttpFront } from '../runtime/graphql-http';
import { requestIdFrom } from '../runtime/request-context';
import type { GatewayConfig } from './config';
import { SignedDataSource, type GatewayContext } from './data-source';
import { attachSubscriptionServer, type SubscriptionServer } from './subscriptions';
import { openGatewaySchema } from './schema-services';
import { initObservability, observabilityPlugin, OperationRecorder, traceRequests } from '../runtime/observability';
import { nameRequestSpan } from '../runtime/telemetry';
import { graphiqlLandingPage, mountConsole } from './console';
import { LoadedGraph } from './loaded-graph';
import { createRequestPath, type RequestPlugin } from './request-path';
import { createDemandControl } from './demand-control';
import { Authorizer, authorizationStep } from './authorization';
import { CLIENT_NAME_HEADERS } from './usage-reporting';

export interface RunningGateway {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  stop(): Promise<void>;
}

const CLIENT_CODES = new Set<string>(Object.values(ErrorCode));
const APOLLO_INPUT_CODES = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_SUPPORTED', 'PERSISTED_QUERY_NOT_FOUND']);

/**
 * Errors leave the gateway with one of our codes. In production anything we did not raise
 * on purpose is masked to INTERNAL_SERVER_ERROR with no message detail or stack.
 */
export function formatGatewayError(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Validation rules report our own errors (limits); Apollo wraps them as validation failures.
    const original = (error as { originalError?: unknown })?.originalError;
    if (original instanceof PaygraphError) formatted = { ...formatted, extensions: { ...formatted.extensions, code: original.code } };
    const code = String(formatted.extensions?.code ?? '');
    // Apollo's own request, parse and validation failures are bad input in our contract's
    // words; the original code stays in `extensions.reason` for tools that know it.
    if (APOLLO_INPUT_CODES.has(code)) {
      formatted = { ...formatted, extensions: { ...formatted.extensions, code: ErrorCode.BAD_USER_INPUT, reason: code } };
    }
    const safe = CLIENT_CODES.has(String(formatted.extensions?.code)) && formatted.extensions?.code !== ErrorCode.INTERNAL_SERVER_ERROR;
    if (!production) return formatted;
    if (safe) {
      const { stacktrace: _stack, serviceName: _service, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
      return { ...formatted, extensions };
    }
    return { message: 'internal error', path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}

/** Errors thrown while building the context carry their HTTP status in `extensions.http`. */
function withHttpStatus(error: unknown, status: number): unknown {
  if (!(error instanceof GraphQLError)) return error;
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });
}

/** A subgraph's URL: the supergraph's `join__graph` URL, unless SUBGRAPH_URLS names the subgraph. */
function routedUrl(name: string, fromSupergraph: string | undefined, overrides: Readonly<Record<string, string>>): string {
  const url = overrides[name] ?? fromSupergraph;
  if (!url) throw new Error(`subgraph ${name} has no URL: the supergraph gives none and SUBGRAPH_URLS does not name it`);
  return url;
}

const READINESS_PROBE_MS = 2000;
/** Distinct query documents the fast lane remembers. */
const FAST_LANE_DOCUMENTS = 1000;

function clientName(req: IncomingMessage): string | undefined {
  const client = req.headers[CLIENT_NAME_HEADERS[0]] ?? req.headers[CLIENT_NAME_HEADERS[1]];
  return typeof client === 'string' ? client : undefined;
}

/** Starts the gateway: the supergraph over HTTP on /graphql, plus /healthz, /readyz and /metrics. */
export async function startGateway(config: GatewayConfig, log: Logger = createLogger('gateway')): Promise<RunningGateway> {
  initObservability('gateway', config.telemetry);
  const verifyIdentity = createIdentityVerifier(config.jwt);
  const armor = armorValidation(config.limits, config.production);
  const rateLimiter = new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst);
  const trustedDocuments = loadTrustedDocuments(config.trustedDocumentsPath);
  const { shutdown } = config;
  // The supergraph comes from the schema registry or the file, and is hot-swapped (schema-services.ts).
  const schema = openGatewaySchema(config.schema, config.mongo, config.supergraphPath, log);
  // The graph the gateway loaded: its supergraph and the data sources it had us build.
  const graph = new LoadedGraph(
    (name, url) =>
      new SignedDataSource({
        url: routedUrl(name, url, config.subgraphUrls),
        subgraph: name,
        signingSecret: config.signingSecret,
        timeoutMs: config.subgraphTimeoutMs,
        resilience: config.resilience,
        batching: config.batching,
      }),
  );
  const gateway = new ApolloGateway({ supergraphSdl: schema.supergraph, buildService: graph.buildService });
  graph.follow(gateway);

  const app = express();
  app.disable('x-powered-by');
  // The request listener (graphqlHttpFront, falling back to `app`) is attached once Apollo has started.
  const httpServer: Server = config.tls ? createTlsServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }) : createServer();
  httpServer.keepAliveTimeout = 65_000;

  const recorder = new OperationRecorder(log);
  // Every plugin, with what it does on the fast lane (request-path.ts).
  const plugins: RequestPlugin[] = [
    ...armor.plugins.map((plugin): RequestPlugin => ({ name: 'graphql-armor', plugin, onFastLane: 'errors-only' })),
    {
      name: 'observability',
      plugin: observabilityPlugin(log, recorder),
      onFastLane: {
        mirror: ({ operationName, seconds }) => {
          const operation = recorder.label(operationName);
          nameRequestSpan('query', operation);
          recorder.record(operation, 'query', false, seconds);
        },
      },
    },
    { name: 'drain', plugin: ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: shutdown.drainMs }), onFastLane: 'lifecycle-only' },
    { name: 'landing page', plugin: config.production ? ApolloServerPluginLandingPageDisabled() : graphiqlLandingPage(), onFastLane: 'lifecycle-only' },
    ...schema.plugins.map((plugin): RequestPlugin => ({
      name: 'schema usage',
      plugin,
      onFastLane: {
        mirror: ({ req, requestContext, operationName }) =>
          schema.observeOperation({ schema: requestContext.schema, documentKey: requestContext.queryHash, document: requestContext.document, operationName, clientName: clientName(req) }),
      },
    })),
  ];
  // Demand control (gateway/demand-control): the HTTP step and the subscriptions' check share one judgement.
  const demandControl = createDemandControl({ config: config.demandControl, graph, label: (name) => recorder.label(name), log });
  // Authorization directives (gateway/authorization), first: later steps see only what the caller may run.
  const authorizer = new Authorizer({ mode: config.authorization.mode, policies: config.authorization.policies, log });
  const path = createRequestPath({ gateway, graph, plugins, steps: [authorizationStep(authorizer, graph), demandControl.step], fastLane: { enabled: config.fastLane, maxEntries: FAST_LANE_DOCUMENTS } });
  const apollo = new ApolloServer<GatewayContext>({
    gateway: path.gateway,
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    hideSchemaDetailsFromClientErrors: config.production,
    csrfPrevention: true,
    // gateway/main.ts owns shutdown; Apollo's own signal handler would race it.
    stopOnTerminationSignals: false,
    formatError: formatGatewayError(config.production),
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    plugins: path.plugins,
  });
  await apollo.start();
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway' });
  });
  // Ready when a supergraph is loaded and every subgraph it names answers a health check.
  app.get('/readyz', async (_req, res) => {
    const subgraphs = await graph.readiness(READINESS_PROBE_MS);
    const ready = graph.loaded && Object.values(subgraphs).every((state) => state === 'ready');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'degraded', supergraph: { loaded: graph.loaded, ...schema.status() }, subgraphs });
  });
  app.get('/metrics', metricsHandler);
  // The payments console at / (and GraphiQL at /graphiql outside production): gateway/console.
  mountConsole(app, { production: config.production });

  /** Identity and rate limit: the context of every GraphQL request. */
  const gatewayContext = async (req: IncomingMessage, requestId: string): Promise<GatewayContext> => {
    const identity = await verifyIdentity(req.headers.authorization).catch((error: unknown) => {
      throw withHttpStatus(error, 401);
    });
    if (!rateLimiter.take(identity.subject === ANONYMOUS.subject ? `ip:${req.socket.remoteAddress}` : identity.subject)) {
      throw withHttpStatus(new PaygraphError(ErrorCode.LIMIT_EXCEEDED, 'rate limit exceeded; slow down'), 429);
    }
    return { identity, requestId };
  };
  // Subscriptions over SSE (graphql-sse), mounted before /graphql, whose parsers would take its requests.
  // The subscription server is attached once the port is ours; no request arrives before.
  let subscriptions: SubscriptionServer | undefined;
  app.use('/graphql/stream', express.json({ limit: config.maxBodyBytes }), (req, res, next) => {
    if (!subscriptions) return next();
    subscriptions.serveEventStream(req, res, req.body).catch(next);
  });
  // JSON POSTs take graphqlHttpFront; what it leaves (GET queries, other content types) comes here.
  app.use(
    '/graphql',
    express.json({ limit: config.maxBodyBytes }),
    traceRequests(),
    limitRequest(config.limits, trustedDocuments),
    expressMiddleware(apollo, { context: async ({ req }) => gatewayContext(req, requestIdFrom(req.headers['x-request-id'])) }),
  );
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    // Body-parser failures (bad JSON, too large) answer with our codes instead of HTML.
    const status = (error as { status?: number }).status ?? 500;
    if (res.headersSent) return next(error);
    const code = status === 413 ? ErrorCode.LIMIT_EXCEEDED : status < 500 ? ErrorCode.BAD_USER_INPUT : ErrorCode.INTERNAL_SERVER_ERROR;
    if (status >= 500) log.error({ err: error }, 'request failed');
    res.status(status).json({ errors: [{ message: status === 413 ? 'request body too large' : 'malformed request', extensions: { code } }] });
  });

  httpServer.on(
    'request',
    graphqlHttpFront({
      apollo,
      path: '/graphql',
      maxBodyBytes: config.maxBodyBytes,
      admit: (_req, _raw, body) => {
        const refused = checkRequestBody(config.limits, trustedDocuments, body);
        return refused ? { refused } : { admitted: undefined };
      },
      context: (req, _admitted, requestId) => gatewayContext(req, requestId),
      shortcut: path.shortcut,
      fallback: app,
    }),
  );

  try {
    await listen(httpServer, config.port, config.host);
  } catch (error) {
    await apollo.stop();
    await schema.close();
    throw error;
  }
  // graphql-ws federated subscriptions on the same /graphql path (gateway/subscriptions), once the port is ours.
  subscriptions = attachSubscriptionServer({
    httpServer,
    graph,
    verifyIdentity,
    signingSecret: config.signingSecret,
    formatError: formatGatewayError(config.production),
    config: config.subscriptions,
    limits: { maxTokens: config.limits.maxTokens, validationRules: armor.validationRules, checkCost: demandControl.checkSubscription },
    maxPayloadBytes: config.maxBodyBytes,
    log,
    onOperation: schema.observeOperation,
    authorizer,
  });

  const port = (httpServer.address() as AddressInfo).port;
  return {
    url: `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}/graphql`,
    port,
    httpServer,
    stop: async () => {
      const started = Date.now();
      await subscriptions.close(shutdown.subscriptionsMs);
      log.info({ ms: Date.now() - started }, 'subscriptions completed');
      await apollo.stop();
      log.info({ ms: Date.now() - started }, 'http requests drained');
      await schema.close();
    },
  };
}

/** Listens, or fails with the cause (a port in use, an address not on this host). */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`, { cause: error }));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
