import { createClient, type Client } from 'graphql-sse';

/**
 * Support for the SSE subscription tests: graphql-sse clients to the gateway's
 * `/graphql/stream`, and a plain `fetch` reader of `text/event-stream` that keeps every field
 * of every event (ids and comments too, which the graphql-sse client does not show).
 */

export function streamUrlOf(gatewayUrl: string): string {
  return `${gatewayUrl}/stream`;
}

/** A graphql-sse client; never retries, so a refusal reaches the sink as it came. */
export function sseClient(gatewayUrl: string, token: string | undefined, singleConnection: boolean): Client<boolean> {
  return createClient({
    url: streamUrlOf(gatewayUrl),
    singleConnection,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  }) as Client<boolean>;
}

/** One event of an event stream, as the SSE spec reads it; `comment` for `:` lines. */
export interface StreamEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: true;
}

/** Splits an event stream into events (the SSE spec's interpretation, without reconnection). */
export async function* streamEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: StreamEvent = {};
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (event.id !== undefined || event.event !== undefined || event.data !== undefined) yield event;
        event = {};
        continue;
      }
      if (line.startsWith(':')) {
        yield { comment: true };
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`;
      else if (field === 'id' || field === 'event') event[field] = value;
    }
  }
}

/** A distinct-connection stream read with plain fetch: every event as it arrives, until stopped. */
export interface FetchedStream {
  readonly response: Response;
  readonly events: StreamEvent[];
  /** The `next` events' results. */
  readonly results: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] }[];
  readonly ended: Promise<void>;
  stop(): void;
}

export async function fetchStream(gatewayUrl: string, request: { query: string; variables?: Record<string, unknown> }, headers: Record<string, string>): Promise<FetchedStream> {
  const abort = new AbortController();
  const response = await fetch(streamUrlOf(gatewayUrl), {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(request),
    signal: abort.signal,
  });
  const events: StreamEvent[] = [];
  const results: FetchedStream['results'] = [];
  const ended = (async () => {
    if (!response.body || !response.ok) return;
    try {
      for await (const event of streamEvents(response.body)) {
        events.push(event);
        if (event.event === 'next') results.push(JSON.parse(event.data ?? 'null'));
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return { response, events, results, ended, stop: () => abort.abort() };
}
