import type { SupergraphManager } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST } from 'graphql';
import type { Logger } from '../runtime/logger';
import { registerDbMetrics } from '../runtime/metrics';
import { connectMongo, type MongoConfig, type MongoHandle } from '../runtime/mongo';
import { RegistryStore } from '../schema/registry/store';
import type { SchemaSourceConfig } from './schema-config';
import type { ObservedOperation } from './subscriptions/protocol';
import { SupergraphSource, type SupergraphStatus } from './supergraph-source';
import { UsageRecorder } from './usage-reporting';

/** The gateway's side of the schema registry: where its supergraph comes from, and usage reporting. */
export interface GatewaySchema {
  /** ApolloGateway's `supergraphSdl` option. */
  readonly supergraph: SupergraphManager;
  readonly plugins: ApolloServerPlugin[];
  /** Records the usage of an operation run outside Apollo Server's plugins (subscriptions, the fast lane). */
  readonly observeOperation: (operation: ObservedOperation) => void;
  status(): SupergraphStatus;
  /** Flushes usage and closes the registry connection (after Apollo Server stopped). */
  close(): Promise<void>;
}

const RECONNECT_AFTER_MS = 5_000;

/** `database`: where the registry is (GatewayConfig.mongo); undefined: no registry, the file only. */
export function openGatewaySchema(config: SchemaSourceConfig, database: MongoConfig | undefined, supergraphPath: string, log: Logger): GatewaySchema {
  let mongo: MongoHandle | undefined;
  let connecting: Promise<RegistryStore | undefined> | undefined;
  let lastAttempt = 0;
  // One connection for the registry reads and the usage writes, made on first need and
  // retried (at most every few seconds) while the database is unreachable.
  const registry = (): Promise<RegistryStore | undefined> => {
    if (mongo) return Promise.resolve(new RegistryStore(mongo.database('gateway')));
    if (!database || (!connecting && Date.now() - lastAttempt < RECONNECT_AFTER_MS)) return Promise.resolve(undefined);
    lastAttempt = Date.now();
    connecting ??= connectMongo(database).then(
      (handle) => {
        mongo = handle;
        registerDbMetrics(handle.client, 'gateway', log, database.slowCommandMs);
        connecting = undefined;
        return new RegistryStore(handle.database('gateway'));
      },
      (error: unknown) => {
        connecting = undefined;
        log.warn({ err: error }, 'schema registry database unreachable');
        return undefined;
      },
    );
    return connecting;
  };
  const source = new SupergraphSource({ source: config.source, supergraphPath, pollMs: config.pollMs, registry, log });
  const usage = config.usageReporting ? new UsageRecorder(registry, log) : undefined;
  usage?.start(config.usageFlushMs);
  return {
    supergraph: source.manager(),
    plugins: usage ? [usage.plugin()] : [],
    observeOperation: (operation) =>
      usage?.observe(operation.schema, operation.documentKey, operation.document, getOperationAST(operation.document, operation.operationName)?.name?.value, operation.clientName),
    status: () => source.status(),
    close: async () => {
      source.stop();
      await usage?.stop();
      await connecting;
      await mongo?.close();
    },
  };
}
