import type { Logger } from 'pino';
import { subgraphPort, type SubgraphName } from './config';
import { createLogger } from './logger';
import { readShutdownConfig, stopOnTerminationSignals } from './shutdown';
import { connectMongo, readMongoConfig, type MongoHandle } from './mongo';
import { publishSchemaOnStart } from '../schema/registry/publish-on-start';
import { startSubgraphServer, type RunningSubgraph, type SubgraphDefinition } from './subgraph-server';

/**
 * What a subgraph module exports for its process entry and for in-process tests: given a
 * database connection, declare indexes, start background work, and return its definition.
 */
export interface SubgraphModule<TContext extends object> {
  name: SubgraphName;
  setup(mongo: MongoHandle, log: Logger): Promise<{ definition: SubgraphDefinition<TContext>; close?: () => Promise<void> }>;
}

export interface StartedSubgraph extends RunningSubgraph {
  readonly mongo: MongoHandle;
}

/** Connects to MongoDB, sets the subgraph up and serves it. Used by main.ts and by tests. */
export async function startSubgraph<TContext extends object>(
  module: SubgraphModule<TContext>,
  options: { port?: number; mongoUri?: string; requireSignature?: boolean } = {},
): Promise<StartedSubgraph> {
  const log = createLogger(module.name);
  const mongo = await connectMongo(readMongoConfig(options.mongoUri));
  const { definition: declared, close } = await module.setup(mongo, log);
  // The SDL it serves is first published to the schema registry (schema/registry).
  const definition = await publishSchemaOnStart(declared, mongo, log);
  const running = await startSubgraphServer(definition, {
    port: options.port ?? subgraphPort(module.name),
    mongo,
    requireSignature: options.requireSignature,
    log,
  });
  return {
    ...running,
    mongo,
    stop: async () => {
      await running.stop();
      await close?.();
      await mongo.close();
    },
  };
}

/** The body of every subgraph's main.ts: start, log where, stop cleanly on SIGINT/SIGTERM. */
export function runSubgraphProcess<TContext extends object>(module: SubgraphModule<TContext>): void {
  const log = createLogger(module.name);
  startSubgraph(module).then(
    (running) => {
      log.info({ url: running.url }, `${module.name} subgraph ready`);
      stopOnTerminationSignals(() => running.stop(), log, readShutdownConfig());
    },
    (error: unknown) => {
      log.fatal({ err: error }, `${module.name} failed to start`);
      process.exit(1);
    },
  );
}
