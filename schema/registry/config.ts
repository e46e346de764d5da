import { envBool, envInt, envOptional } from '../../runtime/config';

/** How a subgraph process publishes its SDL to the registry, read once from the environment. */
export interface PublishConfig {
  /** Publish on start. Env SCHEMA_PUBLISH, default true. */
  enabled: boolean;
  /** Serve and publish this SDL file instead of the subgraph's schema.graphql. Env <NAME>_SCHEMA_PATH (e.g. COMPLIANCE_SCHEMA_PATH). */
  schemaPath?: string;
  /** The version label stored with the SDL. Env SUBGRAPH_VERSION, default the first 12 hex digits of the SDL's digest. */
  version?: string;
  /** A breaking change is in use when an operation used it within this many days. Env SCHEMA_USAGE_WINDOW_DAYS, default 30. */
  usageWindowDays: number;
}

export function readUsageWindowDays(): number {
  return envInt('SCHEMA_USAGE_WINDOW_DAYS', 30, { min: 0, max: 3650 });
}

export function readPublishConfig(subgraph: string): PublishConfig {
  return {
    enabled: envBool('SCHEMA_PUBLISH', true),
    schemaPath: envOptional(`${subgraph.toUpperCase()}_SCHEMA_PATH`),
    version: envOptional('SUBGRAPH_VERSION'),
    usageWindowDays: readUsageWindowDays(),
  };
}
