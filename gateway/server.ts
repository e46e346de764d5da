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
import { internalSigningSecret, SUBGRAPH_NAMES, subgraphUrl, type SubgraphName } from '../runtime/config';
import { ErrorCode, PaygraphError } from '../runtime/errors';
import { ANONYMOUS } from '../runtime/identity';
import { createLogger, type Logger } from '../runtime/logger';
import { metricsHandler } from '../runtime/metrics';
import { readShutdownConfig } from '../runtime/shutdown';
import { GraphQLError } from 'graphql';
import { createIdentityVerifier } from './auth';
import { armorValidation, checkRequestBody, limitRequest, loadTrustedDocuments, RateLimiter } from './limits';
import { graphqlHttpFront } from '../runtime/graphql-http';
import { requestIdFrom } from '../runtime/request-context';
import type { GatewayConfig } from './config';
import { SignedDataSource, type GatewayContext } from './data-source';
import { attachSubscriptionServer } from './subscriptions';
import { graphFromGateway, type FederatedGraph } from './subscriptions/graph';
import { withSingleFetchPath } from './single-fetch';
import { openGatewaySchema } from './schema-services';
import { initObservability, observabilityPlugin, OperationRecorder, traceRequests } from '../runtime/observability';
import { FastLane } from './fast-lane';
import { graphiqlLandingPage, mountConsole } from './console';

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

/** Resolves a subgraph's URL: env overrides (ACCOUNTS_URL, …) win over the supergraph's. */
function subgraphUrlFor(name: string, fromSupergraph: string | undefined): string {
  return (SUBGRAPH_NAMES as string[]).includes(name) ? subgraphUrl(name as SubgraphName) : (fromSupergraph ?? '');
}

/** Starts the gateway: the supergraph over HTTP on /graphql, plus /healthz, /readyz and /metrics. */
export async function startGateway(config: GatewayConfig, log: Logger = createLogger('gateway')): Promise<RunningGateway> {
  initObservability('gateway');
  const secret = internalSigningSecret();
  const verifyIdentity = createIdentityVerifier(config.jwt);
  const armor = armorValidation(config.limits, config.production);
  const rateLimiter = new RateLimiter(config.rateLimit.perSecond, config.rateLimit.burst);
  const trustedDocuments = loadTrustedDocuments(config.trustedDocumentsPath);
  const shutdown = readShutdownConfig();
  // The supergraph comes from the schema registry or the file, and is hot-swapped (schema-services.ts).
  const schema = openGatewaySchema(config.schema, config.supergraphPath, log);
  const gateway = new ApolloGateway({
    supergraphSdl: schema.supergraph,
    buildService: ({ name, url }) => new SignedDataSource(subgraphUrlFor(name, url), secret, config.subgraphTimeoutMs, name),
  });

  const app = express();
  app.disable('x-powered-by');
  // The request listener (graphqlHttpFront, falling back to `app`) is attached once Apollo has started.
  const httpServer: Server = config.tls ? createTlsServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }) : createServer();
  httpServer.keepAliveTimeout = 65_000;

  // One planner over the current supergraph for the single-fetch path and subscriptions.
  let graph: FederatedGraph | undefined;
  const federatedGraph = () => (graph ??= graphFromGateway(gateway));
  const recorder = new OperationRecorder(log);
  // Repeat queries one subgraph answers whole skip Apollo Server (fast-lane.ts); it needs the single-fetch path.
  const lane = config.singleFetch && config.fastLane ? new FastLane({ graph: federatedGraph, recorder, observeUsage: schema.observeOperation }) : undefined;
  const apollo = new ApolloServer<GatewayContext>({
    gateway: withSingleFetchPath(gateway, federatedGraph, config.singleFetch, lane),
    introspection: !config.production,
    includeStacktraceInErrorResponses: !config.production,
    hideSchemaDetailsFromClientErrors: config.production,
    csrfPrevention: true,
    // gateway/main.ts owns shutdown; Apollo's own signal handler would race it.
    stopOnTerminationSignals: false,
    formatError: formatGatewayError(config.production),
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    plugins: [
      ...armor.plugins,
      observabilityPlugin(log, recorder),
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: shutdown.drainMs }),
      ...(config.production ? [ApolloServerPluginLandingPageDisabled()] : [graphiqlLandingPage()]),
      ...schema.plugins,
    ],
  });
  await apollo.start();
  // graphql-ws federated subscriptions on the same /graphql path (gateway/subscriptions).
  const subscriptions = attachSubscriptionServer({
    httpServer,
    graph: federatedGraph(),
    verifyIdentity,
    signingSecret: secret,
    formatError: formatGatewayError(config.production),
    limits: { maxTokens: config.limits.maxTokens, validationRules: armor.validationRules },
    maxPayloadBytes: config.maxBodyBytes,
    log,
    onOperation: schema.observeOperation,
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway' });
  });
  app.get('/readyz', async (_req, res) => {
    const subgraphs = await Promise.all(
      SUBGRAPH_NAMES.map(async (name) => {
        try {
          const response = await fetch(subgraphUrl(name).replace(/\/graphql$/, '/readyz'), { signal: AbortSignal.timeout(2000) });
          return [name, response.ok ? 'ready' : `status ${response.status}`] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
    const supergraphLoaded = Boolean(gateway.schema);
    const ready = supergraphLoaded && subgraphs.every(([, state]) => state === 'ready');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'degraded', supergraph: { loaded: supergraphLoaded, ...schema.status() }, subgraphs: Object.fromEntries(subgraphs) });
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
      shortcut: lane ? (req, body, context) => lane.serve(req, body, context) : undefined,
      fallback: app,
    }),
  );

  await new Promise<void>((resolve) => httpServer.listen(config.port, config.host, resolve));
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
