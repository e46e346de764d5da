import type { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import { subgraphRequestSeconds, subgraphRequests } from '../runtime/request-metrics';
import { outgoingTraceHeaders } from '../runtime/telemetry';

/**
 * Wraps a subgraph data source: each fetch carries the W3C trace context (`traceparent`) and
 * is counted and timed per subgraph. The signature covers method, path, timestamp, body and
 * identity only, so these headers leave it valid. Wrapping, not subclassing, keeps the data
 * source's own construction (signing, pooling, retries) out of this module's concern.
 */
export function observeSubgraph<T extends RemoteGraphQLDataSource<any>>(subgraph: string, source: T): T {
  const willSendRequest = source.willSendRequest?.bind(source);
  source.willSendRequest = async (options: GraphQLDataSourceProcessOptions<any>) => {
    await willSendRequest?.(options);
    const headers = options.request.http?.headers;
    for (const [name, value] of Object.entries(outgoingTraceHeaders())) {
      // x-request-id: the data source sets the context's own; the trace headers are ours.
      if (name !== 'x-request-id' || !headers?.has(name)) headers?.set(name, value);
    }
  };
  const process = source.process.bind(source);
  source.process = async (options: GraphQLDataSourceProcessOptions<any>) => {
    const stopTimer = subgraphRequestSeconds.startTimer({ subgraph });
    try {
      const response = await process(options);
      subgraphRequests.inc({ subgraph, outcome: response.errors?.length ? 'error' : 'ok' });
      return response;
    } catch (error) {
      subgraphRequests.inc({ subgraph, outcome: 'failed' });
      throw error;
    } finally {
      stopTimer();
    }
  };
  return source;
}
