import { ConfigError, envBool, envInt, envOptional } from '../runtime/config';

/** Where the gateway's supergraph comes from, and how client usage is recorded. */
export interface SchemaSourceConfig {
  /**
   * `registry`: the schema registry in `<MONGODB_DB_PREFIX>gateway` (GatewayConfig.mongo),
   * polled for new versions (falls back to SUPERGRAPH_PATH while the registry is empty or
   * unreachable). `file`: only SUPERGRAPH_PATH, reloaded when the file changes. Env
   * SUPERGRAPH_SOURCE, default `registry` when MONGODB_URI is set, else `file`.
   */
  source: 'registry' | 'file';
  /** How often the registry (or the file) is checked for a new supergraph. Env SUPERGRAPH_POLL_MS, default 5000. */
  pollMs: number;
  /** Record which schema coordinates each operation of each client uses. Env SCHEMA_USAGE_REPORTING, default true (needs MONGODB_URI). */
  usageReporting: boolean;
  /** How often recorded usage is written to the registry. Env SCHEMA_USAGE_FLUSH_MS, default 10000. */
  usageFlushMs: number;
}

/** GatewayConfig.schema, read by readGatewayConfig; `registryDatabase`: whether MONGODB_URI is set. */
export function readSchemaSourceConfig(registryDatabase: boolean): SchemaSourceConfig {
  const source = envOptional('SUPERGRAPH_SOURCE') ?? (registryDatabase ? 'registry' : 'file');
  if (source !== 'registry' && source !== 'file') throw new ConfigError(`SUPERGRAPH_SOURCE must be registry or file, got ${JSON.stringify(source)}`);
  if (source === 'registry' && !registryDatabase) throw new ConfigError('SUPERGRAPH_SOURCE=registry needs MONGODB_URI');
  return {
    source,
    pollMs: envInt('SUPERGRAPH_POLL_MS', 5000, { min: 50 }),
    usageReporting: registryDatabase && envBool('SCHEMA_USAGE_REPORTING', true),
    usageFlushMs: envInt('SCHEMA_USAGE_FLUSH_MS', 10_000, { min: 50 }),
  };
}
