import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { GraphQLFormattedError } from 'graphql';
import { createLogger, type Logger } from '../../runtime/logger';
import type { IdentityVerifier } from '../auth';
import type { SubscriptionConfig } from './config';
import { SubscriptionFanOut } from './fan-out';
import type { FederatedGraph } from './graph';
import { registerSubscriptionMetrics } from './metrics';
import type { DocumentLimits } from './planning';
import { SubscriptionProtocol, type SubscriptionProtocolOptions } from './protocol';
import { serveOverEventStream } from './sse/adapter';
import { UpstreamSubscriptions } from './upstream';
import { serveOverWebSocket } from './ws-adapter';

export { SubscriptionCloseCode, SubscriptionCloseReason, SubscriptionEndCode } from './codes';
export type { SubscriptionConfig } from './config';

export interface SubscriptionServerOptions {
  httpServer: Server;
  /** The graph the gateway serves (gateway/loaded-graph.ts), or one built another way. */
  graph: FederatedGraph;
  verifyIdentity: IdentityVerifier;
  /** Secret that signs upstream connection_init (GatewayConfig.signingSecret). */
  signingSecret: string;
  formatError?: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Limits, buffers and timers (GatewayConfig.subscriptions). */
  config: SubscriptionConfig;
  log?: Logger;
  /** Largest accepted WebSocket message in bytes. Default 100000. */
  maxPayloadBytes?: number;
  /** The HTTP path's document limits, applied to subscriptions too. */
  limits?: DocumentLimits;
  /** Called for each accepted subscription (schema usage reporting). */
  onOperation?: SubscriptionProtocolOptions['onOperation'];
  /** The HTTP path's authorization check, made at subscribe. */
  authorizer?: SubscriptionProtocolOptions['authorizer'];
}

export interface SubscriptionServer {
  readonly upstreams: UpstreamSubscriptions;
  readonly protocol: SubscriptionProtocol;
  /** Serves one request to `/graphql/stream` (graphql-sse); `body` is its parsed JSON body, if any. */
  serveEventStream(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void>;
  /** Completes every subscription with a reason, closes every connection and upstream. */
  close(graceMs?: number): Promise<void>;
}

/** Federated subscriptions: graphql-ws on the gateway's `/graphql` path, and graphql-sse through `serveEventStream`. */
export function attachSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const log = options.log ?? createLogger('gateway-subscriptions');
  const { config, graph } = options;
  const upstreams = new UpstreamSubscriptions({ signingSecret: options.signingSecret, idleMs: config.upstreamIdleMs, log });
  const fanOut = new SubscriptionFanOut(upstreams, log);
  const protocol = new SubscriptionProtocol({ graph, verifyIdentity: options.verifyIdentity, fanOut, config, log, formatError: options.formatError, limits: options.limits, onOperation: options.onOperation, authorizer: options.authorizer });
  const transport = serveOverWebSocket(options.httpServer, protocol, {
    path: '/graphql',
    keepAliveMs: config.keepAliveMs,
    maxPayloadBytes: options.maxPayloadBytes ?? 100_000,
  });
  const eventStreams = serveOverEventStream(protocol, { keepAliveMs: config.keepAliveMs, reservationTimeoutMs: config.connectionInitTimeoutMs });
  const unregister = registerSubscriptionMetrics({
    upstreams: () => upstreams.active,
    clients: () => protocol.subscriptionCount,
    connections: () => protocol.connectionCount,
  });
  let closing: Promise<void> | undefined;
  return {
    upstreams,
    protocol,
    serveEventStream: eventStreams.handle,
    close: (graceMs = 5000) =>
      (closing ??= (async () => {
        await protocol.shutdown(graceMs);
        // The last `complete` messages are written in the turn after the streams finish.
        await new Promise((resolve) => setImmediate(resolve));
        eventStreams.close();
        await transport.close();
        await upstreams.close();
        graph.close();
        unregister();
      })()),
  };
}
