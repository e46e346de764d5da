import type { Server } from 'node:http';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { SubscriptionCloseCode, SubscriptionCloseReason } from './codes';
import type { ConnectionExtra, SubscriptionProtocol } from './protocol';

/**
 * The thin adapter: graphql-ws over `ws` on the HTTP server's `/graphql` path (HTTP
 * requests on the same path keep going to Apollo Server). Keep-alive is ws-level
 * ping/pong; a client that misses a pong for a whole interval is dropped.
 */
export function serveOverWebSocket(
  httpServer: Server,
  protocol: SubscriptionProtocol,
  options: { path: string; keepAliveMs: number; maxPayloadBytes: number },
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ server: httpServer, path: options.path, maxPayload: options.maxPayloadBytes });
  const server = useServer<Record<string, unknown>, { session?: ConnectionExtra['session'] }>(protocol.serverOptions(), wss, options.keepAliveMs);
  void server;
  return {
    close: async () => {
      for (const socket of wss.clients) socket.close(SubscriptionCloseCode.GoingAway, SubscriptionCloseReason.GoingAway);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
