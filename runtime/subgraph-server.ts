import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import express from 'express';
import { parse, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { internalSigningSecret } from './config';
import { ErrorCode } from './errors';
import { ANONYMOUS, type Identity } from './identity';
import { createLogger, type Logger } from './logger';
import { decodeIdentity, verifyRequest } from './signing';
import { graphqlHttpFront, type Refusal } from './graphql-http';
import { registerDbMetrics, metricsHandler } from './metrics';
import { readShutdownConfig } from './shutdown';
import type { MongoHandle } from './mongo';
import { initObservability, observabilityPlugin, traceRequests } from './observability';
import { readTelemetryConfig } from './telemetry';
import { readinessHandler, type ReadinessCheck } from './readiness';

/** Largest request a subgraph accepts (entity batches from the gateway can be large). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface SubgraphDefinition<TContext> {
  /** The subgraph's name: `accounts`, `payments`, `risk` or `compliance`. */
  name: string;
  /** Path of its `schema.graphql`, the one source of truth shared with composition. */
  schemaPath: string;
  resolvers: GraphQLResolverMap<TContext>;
  /** Builds the per-request context (fresh DataLoaders) for a verified identity. */
  createContext(identity: Identity, requestId: string): TContext;
  /** Readiness beyond the database (e.g. `eventBus`), reported by /readyz. */
  readiness?: Record<string, ReadinessCheck>;
}

export interface SubgraphServerOptions {
  port: number;
  host?: string;
  mongo: MongoHandle;
  /** Skip the signature check (unit tests that call `executeOperation` directly never use HTTP). */
  requireSignature?: boolean;
  log?: Logger;
}

export interface RunningSubgraph {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  stop(): Promise<void>;
}

/**
 * The gateway batches concurrent reads of several callers into one signed request
 * (gateway/subgraph-batching.ts); each operation names its own caller and request id in
 * `extensions.paygraph`, covered by the request's signature with the rest of the body. Each
 * operation of a batch gets its own copy of the context (Apollo Server's), so it is set to
 * act as that caller: every scope and customer check in the resolvers sees that caller.
 * The batch's DataLoaders stay shared; they read by id for everyone, and authorisation
 * happens in the resolvers. Only a batched POST is read this way (its body is what was signed).
 */
function batchedCallerPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart({ request, requestIsBatched, contextValue: context }) {
      const contextValue = context as BatchedContext;
      if (!requestIsBatched || request.http?.method !== 'POST') return;
      const named = (request.extensions as { paygraph?: { identity?: unknown; requestId?: unknown } } | undefined)?.paygraph;
      if (!named) return;
      const identity = decodeIdentity(named.identity);
      // Named but unreadable: act as nobody, never as the request's signer.
      contextValue.identity = identity ?? ANONYMOUS;
      if (typeof named.requestId === 'string') contextValue.requestId = named.requestId;
    },
  };
}

/** The fields every subgraph's context has (definition.createContext) that a batched operation sets. */
interface BatchedContext {
  identity: Identity;
  requestId: string;
}

/** Errors we did not raise on purpose are masked: their message may leak internals. */
export function formatSubgraphError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const known = typeof code === 'string' && code in ErrorCode && code !== ErrorCode.INTERNAL_SERVER_ERROR;
  const graphqlValidation = code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED' || code === 'BAD_USER_INPUT';
  if (known || graphqlValidation) return formatted;
  if (process.env.NODE_ENV !== 'production') return formatted;
  void error;
  return { message: 'internal error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

export function loadTypeDefs(schemaPath: string) {
  return parse(readFileSync(schemaPath, 'utf8'));
}

/**
 * Starts one subgraph: Apollo Server 5 over HTTP on `/graphql` (and graphql-ws on the same
 * path for subgraphs that own subscriptions), `/healthz`, `/readyz` and `/metrics`. Every
 * GraphQL request must carry a valid internal signature; without one it gets 401.
 */
export async function startSubgraphServer<TContext extends object>(
  definition: SubgraphDefinition<TContext>,
  options: SubgraphServerOptions,
): Promise<RunningSubgraph> {
  const log = options.log ?? createLogger(definition.name);
  initObservability(definition.name, readTelemetryConfig());
  const secret = internalSigningSecret();
  const requireSignature = options.requireSignature ?? true;
  const schema = buildSubgraphSchema({ typeDefs: loadTypeDefs(definition.schemaPath), resolvers: definition.resolvers as GraphQLResolverMap<unknown> });
  registerDbMetrics(options.mongo.client, definition.name, log, options.mongo.config.slowCommandMs);

  const app = express();
  app.disable('x-powered-by');
  // The request listener (graphqlHttpFront, falling back to `app`) is attached once Apollo has started.
  const httpServer = createServer();
  // Keep-alive connections from the gateway are reused; outlive the gateway's idle timeout.
  httpServer.keepAliveTimeout = 65_000;

  let wsCleanup: { dispose(): Promise<void> | void } | undefined;
  const hasSubscriptions = Boolean(schema.getSubscriptionType());
  if (hasSubscriptions) {
    const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });
    wsCleanup = useServer<Record<string, unknown>, { identity?: Identity }>(
      {
        schema,
        onConnect: (ctx) => {
          if (!requireSignature) return true;
          const params = (ctx.connectionParams ?? {}) as Record<string, string>;
          const verified = verifyRequest(secret, { method: 'WS', path: '/graphql', body: '', headers: params });
          if (!verified.ok) return false;
          ctx.extra.identity = verified.identity;
          return true;
        },
        context: (ctx) => definition.createContext(ctx.extra.identity ?? ANONYMOUS, 'ws'),
      },
      wss,
    );
  }

  const plugins: ApolloServerPlugin[] = [
    ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: readShutdownConfig().drainMs }),
    // We send no traces to Apollo's cloud; inline traces would only cost time on every request.
    ApolloServerPluginInlineTraceDisabled(),
    // Nothing caches a subgraph's answers (the gateway answers clients with no-store). With no
    // plugin watching fields, Apollo Server leaves resolvers unwrapped: cache control's
    // per-field hook cost time on every field of every entity.
    ApolloServerPluginCacheControlDisabled(),
    observabilityPlugin(log),
    batchedCallerPlugin(),
    { async serverWillStart() { return { async drainServer() { await wsCleanup?.dispose(); } }; } },
  ];
  const apollo = new ApolloServer<TContext>({
    schema,
    plugins,
    formatError: formatSubgraphError,
    introspection: true,
    csrfPrevention: true,
    // The gateway sends concurrent reads as one HTTP batch (gateway/subgraph-batching.ts): one set
    // of DataLoaders for all of them, so they read the database once; each operation runs as its
    // own caller (batchedCallerPlugin). Only signed requests get here.
    allowBatchedHttpRequests: true,
    // The process entry owns shutdown (runSubgraphProcess); Apollo's own handler would race it.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: process.env.NODE_ENV !== 'production',
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: definition.name });
  });
  app.get('/readyz', readinessHandler(definition.name, {
    database: async () => (await options.mongo.client.db('admin').command({ ping: 1 }), true),
    ...definition.readiness,
  }));
  app.get('/metrics', metricsHandler);

  /** The identity a signed request carries, or why it is refused. */
  const admit = (req: IncomingMessage, raw: Buffer): { refused: Refusal } | { admitted: Identity } => {
    if (!requireSignature) return { admitted: ANONYMOUS };
    const verified = verifyRequest(secret, { method: req.method ?? 'POST', path: '/graphql', body: raw, headers: req.headers });
    if (verified.ok) return { admitted: verified.identity };
    log.warn({ reason: verified.reason, path: req.url }, 'refused unsigned request');
    return { refused: { status: 401, code: ErrorCode.UNAUTHENTICATED, message: 'signature required' } };
  };

  // Requests the HTTP front leaves to express (GET queries, other content types) pass the same check.
  type SignedRequest = IncomingMessage & { rawBody?: Buffer; identity?: Identity };
  app.use(
    '/graphql',
    express.json({
      limit: MAX_BODY_BYTES,
      verify: (req, _res, buf) => {
        (req as SignedRequest).rawBody = buf;
      },
    }),
    (req, res, next) => {
      const admission = admit(req, (req as SignedRequest).rawBody ?? Buffer.alloc(0));
      if ('refused' in admission) {
        res.status(admission.refused.status).json({ errors: [{ message: admission.refused.message, extensions: { code: admission.refused.code } }] });
        return;
      }
      (req as SignedRequest).identity = admission.admitted;
      next();
    },
    traceRequests(),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const requestId = String(req.headers['x-request-id'] ?? '');
        return definition.createContext((req as SignedRequest).identity ?? ANONYMOUS, requestId);
      },
    }),
  );
  httpServer.on(
    'request',
    graphqlHttpFront({
      apollo,
      path: '/graphql',
      maxBodyBytes: MAX_BODY_BYTES,
      admit,
      context: async (_req, identity, requestId) => definition.createContext(identity, requestId),
      fallback: app,
    }),
  );

  await new Promise<void>((resolve) => httpServer.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const port = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    server: httpServer,
    stop: async () => {
      await apollo.stop();
    },
  };
}
