import type { ApolloServerPlugin } from '@apollo/server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from './logger';
import { OperationNames } from './operation-names';
import { requestIdFrom } from './request-context';
import { collectProcessMetrics, errorCodeLabel, graphqlErrors, graphqlRequests, graphqlRequestSeconds } from './request-metrics';
import { flushTelemetry, initTelemetry, nameRequestSpan, startServerRequest, type ServerRequest, type TelemetryConfig } from './telemetry';

/** Process-wide: tracing when configured, process metrics. Called by every server at start. */
export function initObservability(service: string, telemetry: TelemetryConfig): void {
  initTelemetry(service, telemetry);
  collectProcessMetrics();
}

/**
 * One incoming request's request id (the caller's x-request-id or a new one, echoed back and
 * written into the request's headers, where later code reads it: one id per request) and its
 * span in the caller's W3C trace, ended when the response closes, answered or aborted. Run
 * the request's work inside the returned request's `run`.
 */
export function startIncomingRequest(req: IncomingMessage, res: ServerResponse, name: string): ServerRequest {
  const requestId = requestIdFrom(req.headers['x-request-id']);
  req.headers['x-request-id'] = requestId;
  res.setHeader('x-request-id', requestId);
  const request = startServerRequest(name, req.headers, requestId);
  res.once('close', () => request.end(res.statusCode));
  return request;
}

/**
 * Express middleware for one incoming request: startIncomingRequest, active for everything the
 * request does next. Mount it after body parsing: stream callbacks do not carry the context.
 */
export function traceRequests() {
  return (req: Request, res: Response, next: NextFunction): void => {
    startIncomingRequest(req, res, `${req.method} ${req.baseUrl || req.path}`).run(next);
  };
}

/**
 * Counts, times and logs GraphQL operations (bounded operation labels). Apollo Server's
 * plugin below and the gateway's fast lane (gateway/fast-lane.ts) record through one.
 */
export class OperationRecorder {
  private readonly names = new OperationNames();
  constructor(private readonly log: Logger) {}

  label(operationName: string | null | undefined): string {
    return this.names.label(operationName ?? undefined);
  }

  record(operation: string, type: string, failed: boolean, seconds: number): void {
    graphqlRequests.inc({ operation, type, outcome: failed ? 'error' : 'ok' });
    graphqlRequestSeconds.observe({ operation, type }, seconds);
    this.log.info({ operation, type, ms: Math.round(seconds * 1000), outcome: failed ? 'error' : 'ok' }, 'graphql request');
  }
}

/**
 * Per GraphQL operation: request count, latency and errors by code (bounded labels), the
 * trace span named after the operation, and one log line with the request and trace ids.
 */
export function observabilityPlugin(log: Logger, recorder = new OperationRecorder(log)): ApolloServerPlugin<any> {
  return {
    async serverWillStart() {
      // Apollo stops after draining requests: send the spans still batched before the process exits.
      return { serverWillStop: flushTelemetry };
    },
    async requestDidStart(requestContext) {
      const started = process.hrtime.bigint();
      let operation = recorder.label(requestContext.request.operationName);
      let type = 'unknown';
      let failed = false;
      return {
        async didResolveOperation(resolved) {
          type = resolved.operation?.operation ?? 'unknown';
          operation = recorder.label(resolved.operationName ?? resolved.request.operationName);
          nameRequestSpan(type, operation);
        },
        async didEncounterErrors({ errors }) {
          failed = true;
          for (const error of errors) graphqlErrors.inc({ code: errorCodeLabel(error) });
        },
        async willSendResponse() {
          recorder.record(operation, type, failed, Number(process.hrtime.bigint() - started) / 1e9);
        },
      };
    },
  };
}
