/**
 * Closed-loop HTTP load with autocannon: `clients` keep-alive connections, each sending its
 * next request as soon as the previous answers, for a bounded time. The rate is taken between
 * the first and the last answer (steady state). Every request's body is
 * built fresh (new ids, new idempotency keys, a new signature where the target needs one),
 * and a 200 whose body carries GraphQL errors counts as an error.
 */
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
  onResponse?: (status: number, body: string) => void;
}
interface AutocannonResult {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no type declarations; the few fields used are typed above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface LoadRequest {
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  requestsPerSecond: number;
  completed: number;
  p50Ms: number;
  p99Ms: number;
  /** Transport errors, timeouts, non-2xx answers and GraphQL errors together. */
  errors: number;
  /** Requests sent but not answered when the run ended (still in flight, not counted as errors). */
  unanswered: number;
  /** The first GraphQL or HTTP error seen, to say what went wrong. */
  firstError: string | null;
}

export async function runLoad(options: { url: string; clients: number; seconds: number; timeoutSeconds: number; nextRequest: () => LoadRequest }): Promise<LoadResult> {
  let graphqlErrors = 0;
  let firstError: string | null = null;
  let answered = 0;
  let firstAnswerAt = 0;
  let lastAnswerAt = 0;
  const url = new URL(options.url);
  const result = await autocannon({
    url: url.origin,
    connections: options.clients,
    duration: options.seconds,
    timeout: options.timeoutSeconds,
    requests: [
      {
        method: 'POST',
        path: url.pathname,
        setupRequest: (request: AutocannonRequest) => {
          const next = options.nextRequest();
          return { ...request, body: next.body, headers: { 'content-type': 'application/json', ...next.headers } };
        },
        onResponse: (status: number, body: string) => {
          const now = performance.now();
          if (status === 200) {
            answered += 1;
            firstAnswerAt ||= now;
            lastAnswerAt = now;
          }
          if (status !== 200 || body.includes('"errors"')) {
            graphqlErrors += status === 200 ? 1 : 0;
            firstError ??= `${status} ${body.slice(0, 300)}`;
          }
        },
      },
    ],
  });
  // The rate in steady state: from the first answer to the last. The clients' first requests
  // answer only after one latency, and at 100 clients a fan-out's latency is half a run: counted
  // from the start, the rate would mostly measure how long the pipeline took to fill.
  const steadyRate = answered > 1 && lastAnswerAt > firstAnswerAt ? ((answered - 1) * 1000) / (lastAnswerAt - firstAnswerAt) : result['2xx'] / result.duration;
  return {
    requestsPerSecond: steadyRate,
    completed: result['2xx'] + result.non2xx,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx + graphqlErrors,
    unanswered: Math.max(0, result.requests.sent - result['2xx'] - result.non2xx - result.errors - result.timeouts),
    firstError,
  };
}
