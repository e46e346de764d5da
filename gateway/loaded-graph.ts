import type { ApolloGateway, ServiceEndpointDefinition } from '@apollo/gateway';
import type { GraphQLSchema } from 'graphql';
import type { SignedDataSource } from './data-source';
import { graphSnapshot, type FederatedGraph, type GraphSnapshot } from './subscriptions/graph';

/**
 * The graph the gateway serves, built from what the gateway itself loaded: each supergraph
 * ApolloGateway announces (`onSchemaLoadOrUpdate`) and the data sources it asked us to build
 * (`buildService`). The subscription path, the fast lane and /readyz read it; nothing here
 * reaches into ApolloGateway's private state.
 */
export class LoadedGraph implements FederatedGraph {
  private readonly sources = new Map<string, SignedDataSource>();
  private snapshot?: GraphSnapshot;
  private apiSchema?: GraphQLSchema;
  /** Each API schema ApolloGateway announced, with the snapshot of the same supergraph (requests in flight keep theirs). */
  private readonly snapshotsByApiSchema = new WeakMap<GraphQLSchema, GraphSnapshot>();
  private unsubscribe = () => {};

  /** `createDataSource` builds the data source for a subgraph at a URL (routing decided by the caller). */
  constructor(private readonly createDataSource: (name: string, url: string | undefined) => SignedDataSource) {}

  /** ApolloGateway's `buildService` option: the data source is remembered for this graph's snapshots. */
  readonly buildService = ({ name, url }: ServiceEndpointDefinition): SignedDataSource => {
    const source = this.createDataSource(name, url);
    this.sources.set(name, source);
    return source;
  };

  /** Follows the gateway's loads and hot reloads; call before the gateway loads (ApolloServer.start()). */
  follow(gateway: ApolloGateway): void {
    this.unsubscribe = gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
      const snapshot = graphSnapshot(coreSupergraphSdl, () => this.dataSourcesOf(snapshot));
      this.snapshot = snapshot;
      this.apiSchema = apiSchema;
      this.snapshotsByApiSchema.set(apiSchema, snapshot);
    });
  }

  current(): GraphSnapshot {
    if (!this.snapshot) throw new Error('the gateway has not loaded a supergraph yet');
    return this.snapshot;
  }

  /** The API schema Apollo Server validates the current supergraph's requests against. */
  currentApiSchema(): GraphQLSchema | undefined {
    return this.apiSchema;
  }

  /** The snapshot of the supergraph whose API schema this is (an operation validated against it runs on it). */
  snapshotFor(apiSchema: GraphQLSchema): GraphSnapshot | undefined {
    return this.snapshotsByApiSchema.get(apiSchema);
  }

  get loaded(): boolean {
    return this.snapshot !== undefined;
  }

  /** Each subgraph the current supergraph names: 'ready' when it answers a health check, else why not. */
  async readiness(timeoutMs: number): Promise<Record<string, string>> {
    if (!this.snapshot) return {};
    const sources = this.dataSourcesOf(this.snapshot);
    const states = await Promise.all(this.snapshot.subgraphs.map(async ({ name }) => [name, sources[name] ? await sources[name].probe(timeoutMs) : 'no data source'] as const));
    return Object.fromEntries(states);
  }

  close(): void {
    this.unsubscribe();
  }

  /** The data sources of the subgraphs a snapshot's supergraph names (one removed by a reload is not called). */
  private dataSourcesOf(snapshot: GraphSnapshot): Record<string, SignedDataSource> {
    const result: Record<string, SignedDataSource> = {};
    for (const { name } of snapshot.subgraphs) {
      const source = this.sources.get(name);
      if (source) result[name] = source;
    }
    return result;
  }
}
