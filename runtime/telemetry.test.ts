import { currentRequest } from './request-context';
import { outgoingTraceHeaders, startServerRequest, telemetryEnabled } from './telemetry';
import { formatTraceparent, parseTraceparent } from './trace-context';

// Tracing off (no OTLP endpoint): requests still join the caller's W3C trace for logs and propagation.
test('without an exporter, a request continues the caller trace and hands on its own span id', () => {
  expect(telemetryEnabled()).toBe(false);
  const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const request = startServerRequest('POST /graphql', { traceparent: caller }, 'req-1');
  expect(request.context).toMatchObject({ requestId: 'req-1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', sampled: true });
  expect(request.context.spanId).toMatch(/^[0-9a-f]{16}$/);
  expect(request.context.spanId).not.toBe('00f067aa0ba902b7');
  const headers = request.run(() => outgoingTraceHeaders());
  expect(headers).toEqual({ 'x-request-id': 'req-1', traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${request.context.spanId}-01` });
  expect(currentRequest()).toBeUndefined();
  expect(outgoingTraceHeaders()).toEqual({});
});

test('a request without a usable traceparent starts a new trace', () => {
  const first = startServerRequest('POST /graphql', { traceparent: 'garbage' }, 'a').context;
  const second = startServerRequest('POST /graphql', {}, 'b').context;
  expect(first.traceId).toMatch(/^[0-9a-f]{32}$/);
  expect(second.traceId).not.toBe(first.traceId);
});

test('parses and formats W3C traceparent, refusing malformed and all-zero ids', () => {
  const parsed = parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-00');
  expect(parsed).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: false });
  expect(formatTraceparent(parsed!)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
  expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
  expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')).toBeUndefined();
  expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7')).toBeUndefined();
  expect(parseTraceparent(undefined)).toBeUndefined();
});
