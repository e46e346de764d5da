import { join } from 'node:path';
import { envBool, envInt, envOptional, envString } from '../runtime/config';
import { DEFAULT_AUDIENCE, DEFAULT_ISSUER, DEV_JWT_SECRET } from '../runtime/dev-token';

/** Everything the gateway reads from the environment, once, validated at start. */
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
  /** Per-subgraph fetch timeout in ms. Env SUBGRAPH_TIMEOUT_MS, default 10000. */
  subgraphTimeoutMs: number;
  /** Largest accepted request body in bytes. Env MAX_BODY_BYTES, default 100000. */
  maxBodyBytes: number;
}

export function readGatewayConfig(): GatewayConfig {
  const production = process.env.NODE_ENV === 'production';
  const jwksFile = envOptional('JWT_JWKS_FILE');
  const jwksUrl = envOptional('JWT_JWKS_URL');
  const secret = envOptional('JWT_SECRET') ?? (production ? undefined : DEV_JWT_SECRET);
  if (production && !secret && !jwksFile && !jwksUrl) {
    throw new Error('set JWT_JWKS_URL, JWT_JWKS_FILE or JWT_SECRET in production');
  }
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
    subgraphTimeoutMs: envInt('SUBGRAPH_TIMEOUT_MS', 10_000, { min: 1 }),
    maxBodyBytes: envInt('MAX_BODY_BYTES', 100_000, { min: 1000 }),
  };
}

export { envBool };
