import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { envInt, envOptional } from './config';
import { currentRequest, runInRequest, type RequestContext } from './request-context';
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent } from './trace-context';

/** Tracing settings, read once from the standard OpenTelemetry variables. */
export interface TelemetryConfig {
  /** OTLP/HTTP base URL (`/v1/traces` is appended). Env OTEL_EXPORTER_OTLP_ENDPOINT; unset = tracing off. */
  endpoint?: string;
  /** Full traces URL, used as is. Env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; wins over `endpoint`. */
  tracesEndpoint?: string;
  /** How often batched spans are sent, ms. Env OTEL_BSP_SCHEDULE_DELAY, default 5000. */
  scheduleDelayMs: number;
}

export function readTelemetryConfig(): TelemetryConfig {
  return {
    endpoint: envOptional('OTEL_EXPORTER_OTLP_ENDPOINT'),
    tracesEndpoint: envOptional('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
    scheduleDelayMs: envInt('OTEL_BSP_SCHEDULE_DELAY', 5000, { min: 10 }),
  };
}

let provider: BasicTracerProvider | undefined;
const tracer = () => trace.getTracer('paygraph');

/**
 * Turns tracing on for this process when an OTLP endpoint is configured: W3C propagation,
 * async context, batched OTLP/HTTP (JSON) export. Off otherwise: the API stays a no-op and
 * requests only carry a trace id for logs and the traceparent header. @apollo/gateway's
 * own spans (plan, fetch) join the same provider.
 */
export function initTelemetry(service: string, config: TelemetryConfig): boolean {
  if (provider) return true;
  const url = config.tracesEndpoint ?? (config.endpoint ? `${config.endpoint.replace(/\/$/, '')}/v1/traces` : undefined);
  if (!url) return false;
  provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `paygraph-${service}` }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: config.scheduleDelayMs })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return true;
}

export function telemetryEnabled(): boolean {
  return provider !== undefined;
}

/** Sends the spans still buffered (on shutdown). */
export async function flushTelemetry(): Promise<void> {
  await provider?.forceFlush();
}

/** One incoming request's part of the trace: run the handler inside it, end it when answered. */
export interface ServerRequest {
  readonly context: RequestContext;
  run<T>(work: () => T): T;
  end(statusCode: number): void;
}

/** Starts this process's span for an incoming request, as a child of the caller's `traceparent`. */
export function startServerRequest(name: string, headers: Record<string, unknown>, requestId: string): ServerRequest {
  if (!provider) {
    const parent = parseTraceparent(headers.traceparent);
    const requestContext = { requestId, traceId: parent?.traceId ?? newTraceId(), spanId: newSpanId(), sampled: parent?.sampled ?? true };
    return { context: requestContext, run: (work) => runInRequest(requestContext, work), end: () => {} };
  }
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes: { 'paygraph.request_id': requestId } }, parent);
  const spanContext = span.spanContext();
  const requestContext = { requestId, traceId: spanContext.traceId, spanId: spanContext.spanId, sampled: (spanContext.traceFlags & 1) === 1 };
  const active = trace.setSpan(parent, span);
  return {
    context: requestContext,
    run: (work) => context.with(active, () => runInRequest(requestContext, work)),
    end: (statusCode) => {
      span.setAttribute('http.response.status_code', statusCode);
      if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/** Names the current request's span after its GraphQL operation once it is known. */
export function nameRequestSpan(operationType: string, operationName: string): void {
  const span = provider ? trace.getActiveSpan() : undefined;
  if (!span) return;
  span.updateName(`${operationType} ${operationName}`);
  span.setAttributes({ 'graphql.operation.type': operationType, 'graphql.operation.name': operationName });
}

/** Headers that carry the current trace (and request id) to the next process. */
export function outgoingTraceHeaders(): Record<string, string> {
  const request = currentRequest();
  const headers: Record<string, string> = request ? { 'x-request-id': request.requestId } : {};
  if (provider) {
    propagation.inject(context.active(), headers);
  } else if (request) {
    headers.traceparent = formatTraceparent(request);
  }
  return headers;
}

/** Runs an outgoing call in a client span (when tracing is on), handing it the headers to send. */
export async function withClientSpan<T>(name: string, attributes: Record<string, string>, call: (headers: Record<string, string>) => Promise<T>): Promise<T> {
  if (!provider) return call(outgoingTraceHeaders());
  return tracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span: Span) => {
    try {
      return await call(outgoingTraceHeaders());
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
