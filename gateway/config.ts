import { join } from 'node:path';
import { ConfigError, envBool, envInt, envOptional, envString, internalSigningSecret } from '../runtime/config';
import { readMongoConfig, type MongoConfig } from '../runtime/mongo';
import { readShutdownConfig, type ShutdownConfig } from '../runtime/shutdown';
import { readTelemetryConfig, type TelemetryConfig } from '../runtime/telemetry';
import { DEFAULT_LIMITS, type RequestLimits } from './limits';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEV_JWT_SECRET } from '../runtime/dev-token';
import { readResilienceConfig, type ResilienceConfig } from './resilience/config';
import { readSchemaSourceConfig, type SchemaSourceConfig } from './schema-config';
import { readSubgraphBatchingConfig, type SubgraphBatchingConfig } from './subgraph-batching';
import { readSubscriptionConfig, type SubscriptionConfig } from './subscriptions/config';
import { readAuthorizationConfig, type AuthorizationConfig } from './authorization/config';
import { readDemandControlConfig, type DemandControlConfig } from './demand-control/settings';

/**
 * Everything the gateway reads from the environment, once, validated at start
 * (readGatewayConfig): nothing in the gateway reads the environment after it. The one
 * exception is the logger (runtime/logger.ts: LOG_LEVEL, LOG_FORMAT), shared by every
 * process and made before this config is read, so that a bad setting is logged.
 */
export interface GatewayConfig {
  /** HTTP and graphql-ws port. Env GATEWAY_PORT, default 4000 (0 picks a free port). */
  port: number;
  /** Interface to bind. Env GATEWAY_HOST, default 127.0.0.1. */
  host: string;
  /** The composed supergraph served in static mode. Env SUPERGRAPH_PATH, default schema/supergraph.graphql. */
  supergraphPath: string;
  /** true when NODE_ENV=production: introspection, suggestions and the landing page off, errors masked. */
  production: boolean;
  jwt: {
    /** HS256 secret for development tokens. Env JWT_SECRET (required in production unless a JWKS is set). */
    secret?: string;
    /** RS256/ES256 keys for production: a JWKS file path (JWT_JWKS_FILE) or URL (JWT_JWKS_URL). */
    jwksFile?: string;
    jwksUrl?: string;
    /** Expected `iss` and `aud`. Env JWT_ISSUER / JWT_AUDIENCE, defaults paygraph-dev / paygraph. */
    issuer: string;
    audience: string;
    /** Allowed clock skew in seconds for exp/nbf. Env JWT_CLOCK_SKEW_S, default 30. */
    clockSkewSeconds: number;
  };
  /**
   * Signs every gateway→subgraph request and upstream subscription (runtime/signing.ts). Env
   * PAYGRAPH_INTERNAL_SECRET; a development secret by default, required (at least 32
   * characters) in production.
   */
  signingSecret: string;
  /**
   * Subgraph URLs that replace the supergraph's `join__graph` URLs, by subgraph name. Env
   * SUBGRAPH_URLS, a JSON object such as `{"accounts":"http://10.0.0.5:4001/graphql"}`; default
   * none: every subgraph is called where the supergraph says.
   */
  subgraphUrls: Readonly<Record<string, string>>;
  /** Per-subgraph fetch timeout in ms. Env SUBGRAPH_TIMEOUT_MS, default 10000. */
  subgraphTimeoutMs: number;
  /** Per-subgraph timeouts, read retries and the circuit breaker (resilience/config.ts). */
  resilience: ResilienceConfig;
  /** Concurrent reads of one subgraph travelling together (subgraph-batching.ts). */
  batching: SubgraphBatchingConfig;
  /** Largest accepted request body, and graphql-ws message, in bytes. Env MAX_BODY_BYTES, default 100000. */
  maxBodyBytes: number;
  /** Depth, alias, token and directive limits (see limits.ts for the defaults and why). */
  limits: RequestLimits;
  /** The cost limit (MAX_COST) and mode of demand control, from @cost and @listSize (demand-control/settings.ts). */
  demandControl: DemandControlConfig;
  /** Per-identity rate limit: sustained requests/s (RATE_LIMIT_PER_SECOND, default 100) and burst (RATE_LIMIT_BURST, default 400). */
  rateLimit: { perSecond: number; burst: number };
  /** Serve HTTPS and WSS with this PEM certificate and key (TLS_CERT_FILE, TLS_KEY_FILE); plain HTTP when unset. */
  tls?: { certFile: string; keyFile: string };
  /** Trusted documents manifest (JSON: sha256 → document). Env TRUSTED_DOCUMENTS; unset = any document. */
  trustedDocumentsPath?: string;
  /** Supergraph from the schema registry or the file, hot reload, usage reporting (schema-config.ts). */
  schema: SchemaSourceConfig;
  /**
   * The schema registry's database (runtime/mongo.ts): the registry is `<dbPrefix>gateway`.
   * Undefined when MONGODB_URI is unset: the supergraph comes from the file, and no usage is recorded.
   */
  mongo?: MongoConfig;
  /** Repeats of a query that succeeded skip Apollo Server's request pipeline (request-path.ts). Env GATEWAY_FAST_LANE, default true (false when APOLLO_KEY is set). */
  fastLane: boolean;
  /** The authorization directives' mode and @policy rules (authorization/config.ts). */
  authorization: AuthorizationConfig;
  /** graphql-ws limits, buffers and timers (subscriptions/config.ts). */
  subscriptions: SubscriptionConfig;
  /** The grace period from SIGTERM/SIGINT to the exit, and its shares (runtime/shutdown.ts). */
  shutdown: ShutdownConfig;
  /** OpenTelemetry trace export (runtime/telemetry.ts). */
  telemetry: TelemetryConfig;
}

export function readGatewayConfig(): GatewayConfig {
  const production = process.env.NODE_ENV === 'production';
  const jwksFile = envOptional('JWT_JWKS_FILE');
  const jwksUrl = envOptional('JWT_JWKS_URL');
  const secret = envOptional('JWT_SECRET') ?? (production ? undefined : DEV_JWT_SECRET);
  if (production && !secret && !jwksFile && !jwksUrl) {
    throw new ConfigError('set JWT_JWKS_URL, JWT_JWKS_FILE or JWT_SECRET in production');
  }
  const mongoUri = envOptional('MONGODB_URI');
  const mongo = mongoUri ? readMongoConfig(mongoUri) : undefined;
  return {
    port: envInt('GATEWAY_PORT', 4000, { max: 65535 }),
    host: envString('GATEWAY_HOST', '127.0.0.1'),
    supergraphPath: envString('SUPERGRAPH_PATH', join(__dirname, '..', 'schema', 'supergraph.graphql')),
    production,
    jwt: {
      secret,
      jwksFile,
      jwksUrl,
      issuer: envString('JWT_ISSUER', DEFAULT_ISSUER),
      audience: envString('JWT_AUDIENCE', DEFAULT_AUDIENCE),
      clockSkewSeconds: envInt('JWT_CLOCK_SKEW_S', 30, { max: 600 }),
    },
    signingSecret: internalSigningSecret(),
    subgraphUrls: subgraphUrlOverrides(envOptional('SUBGRAPH_URLS')),
    subgraphTimeoutMs: envInt('SUBGRAPH_TIMEOUT_MS', 10_000, { min: 1 }),
    resilience: readResilienceConfig(),
    batching: readSubgraphBatchingConfig(),
    maxBodyBytes: envInt('MAX_BODY_BYTES', 100_000, { min: 1000 }),
    limits: {
      maxDepth: envInt('MAX_DEPTH', DEFAULT_LIMITS.maxDepth, { min: 1 }),
      maxAliases: envInt('MAX_ALIASES', DEFAULT_LIMITS.maxAliases),
      maxTokens: envInt('MAX_TOKENS', DEFAULT_LIMITS.maxTokens, { min: 10 }),
      maxDirectives: envInt('MAX_DIRECTIVES', DEFAULT_LIMITS.maxDirectives),
    },
    demandControl: readDemandControlConfig(),
    rateLimit: { perSecond: envInt('RATE_LIMIT_PER_SECOND', 100, { min: 1 }), burst: envInt('RATE_LIMIT_BURST', 400, { min: 1 }) },
    trustedDocumentsPath: envOptional('TRUSTED_DOCUMENTS'),
    tls: tlsConfig(),
    schema: readSchemaSourceConfig(mongo !== undefined),
    mongo,
    fastLane: fastLaneSetting(),
    authorization: readAuthorizationConfig(),
    subscriptions: readSubscriptionConfig(),
    shutdown: readShutdownConfig(),
    telemetry: readTelemetryConfig(),
  };
}

/**
 * GATEWAY_FAST_LANE, default on. Apollo Server adds its own usage-reporting plugins when
 * APOLLO_KEY is set, and the lane cannot mirror them: the lane is then off by default, and
 * asking for both is refused.
 */
function fastLaneSetting(): boolean {
  const studio = envOptional('APOLLO_KEY') !== undefined;
  const lane = envBool('GATEWAY_FAST_LANE', !studio);
  if (lane && studio) throw new ConfigError("GATEWAY_FAST_LANE=true cannot run beside Apollo's usage reporting (APOLLO_KEY): its plugins run only in Apollo Server's pipeline");
  return lane;
}

/** SUBGRAPH_URLS: a JSON object of subgraph name to an absolute http(s) URL. */
export function subgraphUrlOverrides(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`SUBGRAPH_URLS must be a JSON object of subgraph name to URL, got ${JSON.stringify(raw)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError('SUBGRAPH_URLS must be a JSON object of subgraph name to URL');
  const urls: Record<string, string> = {};
  for (const [name, url] of Object.entries(parsed)) {
    if (typeof url !== 'string' || !/^https?:$/.test(URL.canParse(url) ? new URL(url).protocol : '')) throw new ConfigError(`SUBGRAPH_URLS.${name} must be an http(s) URL, got ${JSON.stringify(url)}`);
    urls[name] = url;
  }
  return urls;
}

function tlsConfig(): GatewayConfig['tls'] {
  const certFile = envOptional('TLS_CERT_FILE');
  const keyFile = envOptional('TLS_KEY_FILE');
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new ConfigError('set both TLS_CERT_FILE and TLS_KEY_FILE, or neither');
  return { certFile, keyFile };
}
