import type { IncomingMessage } from 'node:http';
import type { ApolloGateway } from '@apollo/gateway';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayExecutor, GatewayExecutionResult, GatewayGraphQLRequestContext, GatewayInterface } from '@apollo/server-gateway-interface';
import { Counter } from 'prom-client';
import type { GatewayContext } from './data-source';
import { FastLane, type LaneAnswer } from './fast-lane';
import type { LoadedGraph } from './loaded-graph';

/**
 * The gateway's request path, in one file.
 *
 * Every GraphQL operation over HTTP is executed by ApolloGateway's own executor: its planner,
 * its fetches (through our SignedDataSource: signing, batching, the circuit breaker) and its
 * result shaping. A request reaches that executor by one of two fronts:
 *
 *   1. Apollo Server's request pipeline — parse, validation with the request limits, context,
 *      every plugin. JSON POSTs come to it from runtime/graphql-http.ts, everything else
 *      (GET queries, other content types) through express.
 *   2. The fast lane (the `shortcut` hook below, fast-lane.ts) — a repeat of a query that went
 *      through the pipeline and succeeded skips the pipeline, not the executor. It answers only
 *      results without errors; everything else goes to the pipeline.
 *
 * Operation steps (`steps` below: authorization, demand control) wrap that executor, so both
 * fronts run them, in order, on every operation.
 *
 * No shortcut replaces the executor. tests/differential sends the same requests through every
 * front and through a plain @apollo/gateway and compares the bytes.
 *
 * Every Apollo Server plugin is registered here with what it does on the lane, so none is
 * skipped silently: a plugin with request hooks that neither mirrors itself on the lane nor
 * touches only errors makes the gateway refuse to start with the lane on.
 */
export interface RequestPlugin {
  /** Names the plugin in the start-up refusal. */
  readonly name: string;
  readonly plugin: ApolloServerPlugin<GatewayContext>;
  /**
   * On a fast-lane answer: `mirror` does the plugin's per-request work; 'errors-only' says its
   * request hooks act only on errors (the lane answers none); 'lifecycle-only' says it has no
   * request hooks (checked).
   */
  readonly onFastLane: { mirror(answer: LaneAnswer): void } | 'errors-only' | 'lifecycle-only';
}

/**
 * A check or rewrite of an operation around Apollo's executor, on both fronts: it may answer
 * the operation itself (a refusal), or call `next` with the same or a rewritten request context
 * and shape what comes back. A step that rewrites the document must give the rewritten one its
 * own `queryHash`: ApolloGateway caches query plans by it.
 */
export interface OperationStep {
  readonly name: string;
  /**
   * `front` says who asked: on 'fast-lane' an answer with errors is dropped and Apollo Server's
   * pipeline runs the operation again, so only an error-free answer there reaches the client.
   */
  execute(requestContext: GatewayGraphQLRequestContext, next: GatewayExecutor, front: Front): Promise<GatewayExecutionResult>;
}

export type Front = 'pipeline' | 'fast-lane';

/** Apollo's executor with the steps around it, the first step outermost. */
export function withSteps(executor: GatewayExecutor, steps: readonly OperationStep[], front: Front): GatewayExecutor {
  return steps.reduceRight<GatewayExecutor>((next, step) => (requestContext) => step.execute(requestContext, next, front), executor);
}

export interface RequestPathOptions {
  gateway: ApolloGateway;
  graph: LoadedGraph;
  plugins: RequestPlugin[];
  /** Run around Apollo's executor on both fronts, first outermost. */
  steps?: OperationStep[];
  /** The fast lane on (GATEWAY_FAST_LANE) and how many documents it remembers. */
  fastLane: { enabled: boolean; maxEntries: number };
}

export interface RequestPath {
  /** ApolloServer's `gateway`: ApolloGateway, its executor teaching the fast lane. */
  readonly gateway: GatewayInterface;
  /** ApolloServer's `plugins`. */
  readonly plugins: ApolloServerPlugin<GatewayContext>[];
  /** graphqlHttpFront's `shortcut` hook: the fast lane, or undefined when it is off. */
  readonly shortcut?: (req: IncomingMessage, body: unknown, context: () => Promise<GatewayContext>) => Promise<string | undefined>;
}

const operations = new Counter({
  name: 'paygraph_gateway_operations_total',
  help: "Operations executed by the gateway's executor, by front: pipeline (Apollo Server's request pipeline) or fast-lane (a repeat query that skipped it)",
  labelNames: ['path'],
});

/** Refuses a plugin the lane would skip: one with request hooks that declared no lane behaviour. */
function checkLanePlugins(plugins: RequestPlugin[]): void {
  for (const { name, plugin, onFastLane } of plugins) {
    if (onFastLane === 'lifecycle-only' && plugin.requestDidStart) {
      throw new Error(`plugin ${name} has request hooks that the fast lane would skip: give it a mirror, or set GATEWAY_FAST_LANE=false`);
    }
  }
}

export function createRequestPath(options: RequestPathOptions): RequestPath {
  const { gateway, graph, plugins } = options;
  let executor: GatewayExecutor | undefined;
  let lane: FastLane | undefined;
  if (options.fastLane.enabled) {
    checkLanePlugins(plugins);
    const mirrors = plugins.flatMap(({ onFastLane }) => (typeof onFastLane === 'object' ? [onFastLane.mirror] : []));
    lane = new FastLane({
      executor: () => executor,
      currentSchema: () => graph.currentApiSchema(),
      maxEntries: options.fastLane.maxEntries,
      answered: (answer) => {
        operations.inc({ path: 'fast-lane' });
        for (const mirror of mirrors) mirror(answer);
      },
    });
  }
  return {
    gateway: {
      onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
      stop: () => gateway.stop(),
      load: async (loadOptions) => {
        const loaded = await gateway.load(loadOptions);
        if (!loaded.executor) return loaded;
        const stepped = withSteps(loaded.executor, options.steps ?? [], 'pipeline');
        executor = withSteps(loaded.executor, options.steps ?? [], 'fast-lane');
        return {
          executor: async (requestContext) => {
            operations.inc({ path: 'pipeline' });
            const result = await stepped(requestContext);
            lane?.learn(requestContext, !result.errors?.length);
            return result;
          },
        };
      },
    },
    plugins: plugins.map(({ plugin }) => plugin),
    shortcut: lane ? (req, body, context) => lane.serve(req, body, context) : undefined,
  };
}
