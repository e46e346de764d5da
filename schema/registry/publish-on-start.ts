import { readFileSync } from 'node:fs';
import { Counter } from 'prom-client';
import type { Logger } from '../../runtime/logger';
import type { MongoHandle } from '../../runtime/mongo';
import type { SubgraphDefinition } from '../../runtime/subgraph-server';
import { readPublishConfig } from './config';
import { publishSubgraph } from './publish';
import { RegistryStore } from './store';

const publishes = new Counter({
  name: 'paygraph_schema_publishes_total',
  help: 'Schema publishes by this subgraph process, by outcome (published, unchanged, rejected, failed)',
  labelNames: ['subgraph', 'outcome'],
});

/**
 * A subgraph process, before it serves: picks the SDL it serves (its schema.graphql, or the
 * <NAME>_SCHEMA_PATH override) and publishes it to the registry. A rejection or an
 * unreachable registry is logged, never fatal: the subgraph still serves, and the gateway
 * keeps the last good supergraph.
 */
export async function publishSchemaOnStart<TContext>(definition: SubgraphDefinition<TContext>, mongo: MongoHandle, log: Logger): Promise<SubgraphDefinition<TContext>> {
  const config = readPublishConfig(definition.name);
  const served = config.schemaPath ? { ...definition, schemaPath: config.schemaPath } : definition;
  if (!config.enabled) return served;
  try {
    const outcome = await publishSubgraph(new RegistryStore(mongo.database('gateway')), {
      subgraph: definition.name,
      sdl: readFileSync(served.schemaPath, 'utf8'),
      version: config.version,
      usageWindowDays: config.usageWindowDays,
    });
    publishes.inc({ subgraph: definition.name, outcome: outcome.status });
    if (outcome.status === 'rejected') {
      log.error({ rejection: outcome.rejection, supergraphVersion: outcome.version, reasons: outcome.reasons }, 'schema publish rejected; the gateway keeps the last good supergraph');
    } else if (outcome.status === 'published') {
      log.info({ supergraphVersion: outcome.version, warnings: outcome.warnings }, 'schema published');
      for (const warning of outcome.warnings) log.warn({ supergraphVersion: outcome.version }, `schema publish warning: ${warning}`);
    }
  } catch (error) {
    publishes.inc({ subgraph: definition.name, outcome: 'failed' });
    log.error({ err: error }, 'schema publish failed; serving anyway');
  }
  return served;
}
