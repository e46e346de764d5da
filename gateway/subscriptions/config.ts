import { envInt } from '../../runtime/config';

/** How the gateway's subscription endpoint behaves; read from the environment once, at start. */
export interface SubscriptionConfig {
  /** Subscriptions one connection may hold at once; one more is refused with LIMIT_EXCEEDED. Env SUBSCRIPTIONS_PER_CONNECTION, default 25. */
  maxSubscriptionsPerConnection: number;
  /**
   * Resolved events that may wait for one slow client (per subscription) before its
   * connection is closed with SlowConsumer. Env SUBSCRIPTION_CLIENT_BUFFER, default 1000.
   */
  clientBufferEvents: number;
  /**
   * Bytes the WebSocket may hold unsent for one client before it counts as slow, whatever
   * the event count. Env SUBSCRIPTION_CLIENT_BUFFER_BYTES, default 8 MiB.
   */
  clientBufferBytes: number;
  /** Interval of WebSocket pings; a client that misses a pong for as long is dropped. Env SUBSCRIPTION_KEEPALIVE_MS, default 12000. */
  keepAliveMs: number;
  /** Time a client has to send `connection_init`. Env SUBSCRIPTION_INIT_TIMEOUT_MS, default 3000. */
  connectionInitTimeoutMs: number;
  /** How long an idle upstream connection to a subgraph stays open after its last subscription. Env SUBSCRIPTION_UPSTREAM_IDLE_MS, default 5000. */
  upstreamIdleMs: number;
}

/** GatewayConfig.subscriptions: read by readGatewayConfig, at start, and nowhere else. */
export function readSubscriptionConfig(): SubscriptionConfig {
  return {
    maxSubscriptionsPerConnection: envInt('SUBSCRIPTIONS_PER_CONNECTION', 25, { min: 1, max: 10_000 }),
    clientBufferEvents: envInt('SUBSCRIPTION_CLIENT_BUFFER', 1000, { min: 1, max: 1_000_000 }),
    clientBufferBytes: envInt('SUBSCRIPTION_CLIENT_BUFFER_BYTES', 8 * 1024 * 1024, { min: 1024 }),
    keepAliveMs: envInt('SUBSCRIPTION_KEEPALIVE_MS', 12_000, { min: 0 }),
    connectionInitTimeoutMs: envInt('SUBSCRIPTION_INIT_TIMEOUT_MS', 3000, { min: 100 }),
    upstreamIdleMs: envInt('SUBSCRIPTION_UPSTREAM_IDLE_MS', 5000, { min: 0 }),
  };
}
