import type { IncomingMessage } from 'node:http';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY } from 'graphql-sse';
import type { ConnectionCredentials } from '../protocol';
import type { OperationRequest } from './resume';

/** What one HTTP request to the SSE endpoint asks, read once from its method, URL, headers and body. */
export interface EventStreamRequest {
  readonly method: string;
  readonly url: URL;
  /** The client accepts `text/event-stream`: it wants a stream (distinct connection, or opening a reservation). */
  readonly wantsStream: boolean;
  /** The single connection mode's reservation token (`X-GraphQL-Event-Stream-Token` or `?token=`). */
  readonly streamToken?: string;
  /** `Last-Event-ID`: the cursor of the last event the client received. */
  readonly lastEventId?: string;
  readonly credentials: ConnectionCredentials;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) || undefined;
}

export function readEventStreamRequest(req: IncomingMessage): EventStreamRequest {
  const url = new URL(req.url ?? '/', 'http://gateway');
  const clientName = header(req, 'apollographql-client-name') ?? header(req, 'x-client-name');
  return {
    method: req.method ?? 'GET',
    url,
    wantsStream: (header(req, 'accept') ?? '').includes('text/event-stream'),
    streamToken: header(req, TOKEN_HEADER_KEY) ?? (url.searchParams.get(TOKEN_QUERY_KEY) || undefined),
    lastEventId: header(req, 'last-event-id'),
    credentials: { authorization: header(req, 'authorization'), clientName },
  };
}

function jsonParam(url: URL, name: string): Record<string, unknown> | undefined {
  const text = url.searchParams.get(name);
  if (!text) return undefined;
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${name} must be a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The GraphQL request in a GET's query string or a POST's JSON body (already parsed by the
 * HTTP server's body parser), or a message saying what is wrong with it.
 */
export function operationRequest(request: EventStreamRequest, body: unknown): OperationRequest | { invalid: string } {
  let params: Record<string, unknown>;
  try {
    if (request.method === 'GET') {
      const { searchParams } = request.url;
      params = { query: searchParams.get('query') ?? undefined, operationName: searchParams.get('operationName') ?? undefined, variables: jsonParam(request.url, 'variables'), extensions: jsonParam(request.url, 'extensions') };
    } else if (body && typeof body === 'object' && !Array.isArray(body)) {
      params = body as Record<string, unknown>;
    } else {
      return { invalid: 'the body must be a JSON object (Content-Type: application/json)' };
    }
  } catch (error) {
    return { invalid: `unreadable request: ${(error as Error).message}` };
  }
  const { query, operationName, variables, extensions } = params;
  if (typeof query !== 'string' || query === '') return { invalid: 'missing query' };
  if (operationName != null && typeof operationName !== 'string') return { invalid: 'operationName must be a string' };
  for (const [name, value] of [['variables', variables], ['extensions', extensions]] as const) {
    if (value != null && (typeof value !== 'object' || Array.isArray(value))) return { invalid: `${name} must be an object` };
  }
  return {
    query,
    operationName: operationName ?? undefined,
    variables: (variables as Record<string, unknown> | null) ?? undefined,
    extensions: (extensions as Record<string, unknown> | null) ?? undefined,
  };
}
