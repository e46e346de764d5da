import { envOptional, envString, ConfigError } from '../config';
import { InProcessEventBus } from './in-process';
import { NatsEventBus } from './nats';
import { RedisEventBus } from './redis';

/**
 * Wakes subscribers across processes. The bus carries small JSON notices ("something
 * happened after sequence N"), never the data itself: durable logs stay the source of
 * truth, so a lost or duplicated message costs a read, never an event. Delivery is at most
 * once per subscriber and per process order; nothing is stored.
 */
export interface EventBus {
  /** Sends `message` (JSON-serialisable) to every subscriber of `topic`, in every process on the bus. */
  publish(topic: string, message: unknown): void;
  /** Calls `handler` for each message on `topic`; returns the unsubscribe function. */
  subscribe(topic: string, handler: (message: unknown) => void): () => void;
  /** Resolves once every `subscribe` so far is active on the server (a publish after it reaches them). */
  ready(): Promise<void>;
  /** Whether the bus can carry messages right now (readiness: /readyz). */
  connected(): boolean;
  close(): Promise<void>;
}

export interface EventBusConfig {
  /** redis://… or rediss://… (Redis pub/sub), nats://… (NATS core), unset: in-process. Env EVENT_BUS_URL. */
  url?: string;
  /** Prefix of every channel or subject, to share one server between deployments or tests. Env EVENT_BUS_PREFIX, default "paygraph". */
  prefix: string;
}

export function readEventBusConfig(): EventBusConfig {
  const prefix = envString('EVENT_BUS_PREFIX', 'paygraph');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) throw new ConfigError('EVENT_BUS_PREFIX must be 1-64 letters, digits, "_" or "-"');
  return { url: envOptional('EVENT_BUS_URL'), prefix };
}

/** The bus chosen by configuration: Redis or NATS by URL scheme, in-process when no URL is set. */
export function createEventBus(config: EventBusConfig = readEventBusConfig()): EventBus {
  if (!config.url) return new InProcessEventBus();
  const scheme = new URL(config.url).protocol;
  if (scheme === 'redis:' || scheme === 'rediss:') return new RedisEventBus(config.url, config.prefix);
  if (scheme === 'nats:' || scheme === 'tls:') return new NatsEventBus(config.url, config.prefix);
  throw new ConfigError(`EVENT_BUS_URL must start with redis://, rediss:// or nats://, got ${scheme}`);
}

export { InProcessEventBus, NatsEventBus, RedisEventBus };
