import { Counter } from 'prom-client';
import type { UnavailableReason } from './unavailable';

/** Subgraph fetches answered with SUBGRAPH_UNAVAILABLE, by subgraph and why ('circuit-open' = failed fast). */
const unavailable = new Counter({
  name: 'paygraph_gateway_subgraph_unavailable_total',
  help: 'Subgraph fetches the gateway answered with SUBGRAPH_UNAVAILABLE, by subgraph and reason (circuit-open: not attempted)',
  labelNames: ['subgraph', 'reason'] as const,
});

export function countUnavailable(subgraph: string, reason: UnavailableReason): void {
  unavailable.inc({ subgraph, reason });
}
