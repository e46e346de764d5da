import type { FormattedExecutionResult } from 'graphql';

/**
 * The graphql-sse protocol's messages as `text/event-stream` text (PROTOCOL.md in
 * graphql-sse): `next` carries a result, `complete` ends an operation. In single connection
 * mode both name their operation (`{ id, payload }`, `{ id }`).
 */

/** An SSE comment: keeps proxies and load balancers from dropping an idle stream; clients ignore it. */
export const KEEP_ALIVE_COMMENT = ':\n\n';

/**
 * The cursor of a subscription result: its root field's `cursor` (`PaymentEvent.cursor`),
 * whatever the alias. Sent as the event's SSE `id:`, so that a reconnecting EventSource
 * sends it back as `Last-Event-ID`.
 */
export function resultCursor(result: FormattedExecutionResult): string | undefined {
  const root = result.data ? Object.values(result.data)[0] : undefined;
  const cursor = root && typeof root === 'object' ? (root as { cursor?: unknown }).cursor : undefined;
  // An SSE field ends at a line break, and a NUL makes clients ignore the id.
  return typeof cursor === 'string' && !/[\r\n\0]/.test(cursor) ? cursor : undefined;
}

/** A `next` message; `id` becomes the SSE event id. JSON text holds no raw line break, so `data` is one line. */
export function nextMessage(result: FormattedExecutionResult, operationId?: string, id?: string): string {
  const data = operationId === undefined ? result : { id: operationId, payload: result };
  return `${id === undefined ? '' : `id: ${id}\n`}event: next\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A `complete` message; the empty `data:` is what makes an EventSource dispatch it. */
export function completeMessage(operationId?: string): string {
  return operationId === undefined ? 'event: complete\ndata:\n\n' : `event: complete\ndata: ${JSON.stringify({ id: operationId })}\n\n`;
}
