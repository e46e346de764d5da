import { ConfigError } from '../runtime/config';
import { readGatewayConfig } from './config';

/**
 * readGatewayConfig reads every gateway setting once, into one tree: the defaults, values
 * from the environment in their sections, and a bad value refused with the variable's name.
 */
const saved = process.env;

/** Runs with exactly these variables set (nothing from the test run's own environment). */
function readWith(env: Record<string, string>) {
  process.env = { ...env };
  try {
    return readGatewayConfig();
  } finally {
    process.env = saved;
  }
}

function refusal(env: Record<string, string>): string {
  try {
    readWith(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`readGatewayConfig accepted ${JSON.stringify(env)}`);
}

test('nothing set: every section has its documented default', () => {
  const config = readWith({});
  expect(config).toMatchObject({
    port: 4000,
    host: '127.0.0.1',
    production: false,
    signingSecret: 'dev-internal-secret-change-me',
    subgraphTimeoutMs: 10_000,
    subgraphUrls: {},
    resilience: { subgraphTimeoutMs: {}, retries: 2, retryBackoffMs: 50, breakerFailures: 5, breakerOpenMs: 2000 },
    batching: { maxInFlight: 2, maxFetches: 64 },
    schema: { source: 'file', pollMs: 5000, usageReporting: false, usageFlushMs: 10_000 },
    fastLane: true,
    subscriptions: { maxSubscriptionsPerConnection: 25, clientBufferEvents: 1000, clientBufferBytes: 8 * 1024 * 1024, keepAliveMs: 12_000, connectionInitTimeoutMs: 3000, upstreamIdleMs: 5000 },
    shutdown: { graceMs: 10_000, subscriptionsMs: 3000, drainMs: 6000 },
    telemetry: { endpoint: undefined, tracesEndpoint: undefined, scheduleDelayMs: 5000 },
  });
  expect(config.mongo).toBeUndefined();
});

test('values from the environment land in their sections', () => {
  const config = readWith({
    GATEWAY_PORT: '4100',
    PAYGRAPH_INTERNAL_SECRET: 'a-signing-secret',
    RISK_TIMEOUT_MS: '250',
    SUBGRAPH_RETRIES: '0',
    SUBGRAPH_BATCH_IN_FLIGHT: '0',
    SUBGRAPH_URLS: '{"accounts":"http://10.0.0.5:4001/graphql"}',
    MONGODB_URI: 'mongodb://db.example:27017',
    MONGODB_DB_PREFIX: 'staging_',
    MONGODB_ID_READS: 'point',
    SLOW_COMMAND_MS: '25',
    SCHEMA_USAGE_REPORTING: 'off',
    SUBSCRIPTION_UPSTREAM_IDLE_MS: '0',
    SHUTDOWN_GRACE_MS: '2000',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
  });
  expect(config).toMatchObject({
    port: 4100,
    signingSecret: 'a-signing-secret',
    resilience: { subgraphTimeoutMs: { risk: 250 }, retries: 0 },
    batching: { maxInFlight: 0 },
    subgraphUrls: { accounts: 'http://10.0.0.5:4001/graphql' },
    mongo: { uri: 'mongodb://db.example:27017', dbPrefix: 'staging_', idReads: 'point', slowCommandMs: 25 },
    schema: { source: 'registry', usageReporting: false },
    subscriptions: { upstreamIdleMs: 0 },
    shutdown: { graceMs: 2000, subscriptionsMs: 600, drainMs: 1200 },
    telemetry: { endpoint: 'http://collector:4318' },
  });
});

test('an integer out of range or not an integer is refused with its name', () => {
  expect(refusal({ SUBGRAPH_RETRIES: '11' })).toBe('SUBGRAPH_RETRIES must be between 0 and 10, got 11');
  expect(refusal({ SHUTDOWN_GRACE_MS: '50' })).toBe('SHUTDOWN_GRACE_MS must be between 100 and 600000, got 50');
  expect(refusal({ SUBSCRIPTION_KEEPALIVE_MS: '12s' })).toBe('SUBSCRIPTION_KEEPALIVE_MS must be an integer, got "12s"');
  expect(refusal({ MONGODB_URI: 'mongodb://db.example:27017', SLOW_COMMAND_MS: '-1' })).toBe('SLOW_COMMAND_MS must be between 0 and 9007199254740991, got -1');
});

test('a bad boolean is refused with its name', () => {
  expect(refusal({ GATEWAY_FAST_LANE: 'maybe' })).toBe('GATEWAY_FAST_LANE must be true or false, got "maybe"');
  expect(refusal({ MONGODB_URI: 'mongodb://db.example:27017', SCHEMA_USAGE_REPORTING: 'sometimes' })).toBe('SCHEMA_USAGE_REPORTING must be true or false, got "sometimes"');
});

test('SUBGRAPH_URLS that is not a JSON object of http(s) URLs is refused', () => {
  expect(refusal({ SUBGRAPH_URLS: '{accounts: http://10.0.0.5:4001}' })).toBe('SUBGRAPH_URLS must be a JSON object of subgraph name to URL, got "{accounts: http://10.0.0.5:4001}"');
  expect(refusal({ SUBGRAPH_URLS: '["http://10.0.0.5:4001/graphql"]' })).toBe('SUBGRAPH_URLS must be a JSON object of subgraph name to URL');
  expect(refusal({ SUBGRAPH_URLS: '{"risk":"ftp://10.0.0.5/graphql"}' })).toBe('SUBGRAPH_URLS.risk must be an http(s) URL, got "ftp://10.0.0.5/graphql"');
});

test('settings that only fail together, or only in production, are refused at start too', () => {
  expect(refusal({ MONGODB_URI: 'mongodb://db.example:27017', MONGODB_ID_READS: 'sometimes' })).toBe('MONGODB_ID_READS must be auto, in or point, got "sometimes"');
  expect(refusal({ SUPERGRAPH_SOURCE: 'registry' })).toBe('SUPERGRAPH_SOURCE=registry needs MONGODB_URI');
  expect(refusal({ APOLLO_KEY: 'service:x', GATEWAY_FAST_LANE: 'true' })).toMatch(/^GATEWAY_FAST_LANE=true cannot run beside Apollo's usage reporting/);
  expect(refusal({ NODE_ENV: 'production', JWT_SECRET: 'a-production-like-secret-for-this-test-only', PAYGRAPH_INTERNAL_SECRET: 'short' })).toBe(
    'PAYGRAPH_INTERNAL_SECRET must be at least 32 characters in production',
  );
});
