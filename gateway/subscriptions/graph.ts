import type { GraphQLDataSource } from '@apollo/gateway';
import { Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner } from '@apollo/query-planner';
import type { GraphQLSchema } from 'graphql';
import { withEnforcedSecurityFeatures } from '../authorization/security-features';

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
  /** The subgraphs this supergraph names (`join__graph`), with their URLs as it gives them. */
  readonly subgraphs: readonly { name: string; url: string }[];
}

/** The graph the gateway serves now; follows supergraph hot reloads. */
export interface FederatedGraph {
  current(): GraphSnapshot;
  close(): void;
}

/** Validation, planning and execution over one supergraph, calling subgraphs through `dataSources`. */
export function graphSnapshot(supergraphSdl: string, dataSources: () => Record<string, SubgraphDataSource>): GraphSnapshot {
  const supergraph = Supergraph.build(withEnforcedSecurityFeatures(supergraphSdl));
  const apiSchemaInternal = supergraph.apiSchema();
  return {
    subgraphs: supergraph.subgraphsMetadata(),
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
  const snapshot = graphSnapshot(supergraphSdl, () => dataSources);
  return { current: () => snapshot, close: () => {} };
}
