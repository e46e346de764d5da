import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import { Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner } from '@apollo/query-planner';
import type { GraphQLSchema } from 'graphql';

/** A data source the subscription path can call for entity fetches, and whose URL it can open over WebSocket. */
export type SubgraphDataSource = GraphQLDataSource & { readonly url?: string };

/** One composed supergraph, as the subscription path needs it: validation, planning, execution. */
export interface GraphSnapshot {
  /** The API schema as graphql-js sees it: client documents are validated against it. */
  readonly apiSchema: GraphQLSchema;
  /** The same API schema for the planner and the executor (federation-internals). */
  readonly apiSchemaInternal: Schema;
  readonly supergraphSchema: GraphQLSchema;
  readonly planner: QueryPlanner;
  /** The data source queries use for this subgraph (signed, pooled), or undefined if unknown. */
  dataSource(subgraph: string): SubgraphDataSource | undefined;
  dataSources(): Record<string, SubgraphDataSource>;
}

/** The graph the gateway serves now; follows supergraph hot reloads. */
export interface FederatedGraph {
  current(): GraphSnapshot;
  close(): void;
}

function snapshotOf(supergraphSdl: string, dataSources: () => Record<string, SubgraphDataSource>): GraphSnapshot {
  const supergraph = Supergraph.build(supergraphSdl);
  const apiSchemaInternal = supergraph.apiSchema();
  return {
    apiSchema: apiSchemaInternal.toGraphQLJSSchema(),
    apiSchemaInternal,
    supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
    planner: new QueryPlanner(supergraph),
    dataSource: (subgraph) => dataSources()[subgraph],
    dataSources,
  };
}

/** A fixed supergraph with given data sources (tools and unit tests). */
export function graphFromSupergraphSdl(supergraphSdl: string, dataSources: Record<string, SubgraphDataSource> = {}): FederatedGraph {
  const snapshot = snapshotOf(supergraphSdl, () => dataSources);
  return { current: () => snapshot, close: () => {} };
}

// ApolloGateway keeps the data sources it built (ours: SignedDataSource) in a private map.
// Reading it is how entity fetches of subscription events go through exactly the same
// signed, pooled data sources as queries do; the field has kept this shape through 2.x.
interface GatewayInternals {
  serviceMap?: Record<string, { dataSource: SubgraphDataSource } | undefined>;
}

/**
 * The graph of a loaded ApolloGateway: its supergraph SDL (rebuilt on every update) and
 * its own data sources. Call after the gateway has loaded (ApolloServer.start()).
 */
export function graphFromGateway(gateway: ApolloGateway): FederatedGraph {
  const dataSources = () => {
    const serviceMap = (gateway as unknown as GatewayInternals).serviceMap ?? {};
    const result: Record<string, SubgraphDataSource> = {};
    for (const [name, entry] of Object.entries(serviceMap)) if (entry) result[name] = entry.dataSource;
    return result;
  };
  const sdl = gateway.__testing().supergraphSdl;
  if (!sdl) throw new Error('the gateway has not loaded a supergraph yet');
  let snapshot = snapshotOf(sdl, dataSources);
  const unsubscribe = gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    snapshot = snapshotOf(coreSupergraphSdl, dataSources);
  });
  return { current: () => snapshot, close: unsubscribe };
}
