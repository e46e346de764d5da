import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * What every log line of one request carries, from the gateway through every subgraph: the
 * request id (x-request-id) and the W3C trace it belongs to. Held in AsyncLocalStorage so
 * loggers, data sources and internal clients find it without threading it through calls.
 */
export interface RequestContext {
  requestId: string;
  traceId: string;
  /** The span of this process's part of the request: the parent of the calls it makes. */
  spanId: string;
  sampled: boolean;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

export function runInRequest<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

const REQUEST_ID = /^[\w-]{1,64}$/;

/** The caller's x-request-id when it is a sane token, a fresh UUID otherwise (never echo junk into logs). */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Fields a logger mixes into each line (pino `mixin`). */
export function requestLogFields(): { requestId?: string; traceId?: string } {
  const context = storage.getStore();
  return context ? { requestId: context.requestId, traceId: context.traceId } : {};
}
