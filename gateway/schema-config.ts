import { ConfigError, envBool, envInt, envOptional } from '../runtime/config';

/** Where the gateway's supergraph comes from, and how client usage is recorded. */
export interface SchemaSourceConfig {
  /**
   * `registry`: the schema registry in `<MONGODB_DB_PREFIX>gateway`, polled for new versions
   * (falls back to SUPERGRAPH_PATH while the registry is empty or unreachable). `file`: only
   * SUPERGRAPH_PATH, reloaded when the file changes. Env SUPERGRAPH_SOURCE, default
   * `registry` when MONGODB_URI is set, else `file`.
   */
  source: 'registry' | 'file';
  /** The registry's database server. Env MONGODB_URI. */
  mongoUri?: string;
  /** How often the registry (or the file) is checked for a new supergraph. Env SUPERGRAPH_POLL_MS, default 5000. */
  pollMs: number;
  /** Record which schema coordinates each operation of each client uses. Env SCHEMA_USAGE_REPORTING, default true (needs MONGODB_URI). */
  usageReporting: boolean;
  /** How often recorded usage is written to the registry. Env SCHEMA_USAGE_FLUSH_MS, default 10000. */
  usageFlushMs: number;
}

export function readSchemaSourceConfig(): SchemaSourceConfig {
  const mongoUri = envOptional('MONGODB_URI');
  const source = envOptional('SUPERGRAPH_SOURCE') ?? (mongoUri ? 'registry' : 'file');
  if (source !== 'registry' && source !== 'file') throw new ConfigError(`SUPERGRAPH_SOURCE must be registry or file, got ${JSON.stringify(source)}`);
  if (source === 'registry' && !mongoUri) throw new ConfigError('SUPERGRAPH_SOURCE=registry needs MONGODB_URI');
  return {
    source,
    mongoUri,
    pollMs: envInt('SUPERGRAPH_POLL_MS', 5000, { min: 50 }),
    usageReporting: Boolean(mongoUri) && envBool('SCHEMA_USAGE_REPORTING', true),
    usageFlushMs: envInt('SCHEMA_USAGE_FLUSH_MS', 10_000, { min: 50 }),
  };
}
