import { Counter, Gauge } from 'prom-client';

/** Live sources of the gauges below: every subscription server in this process. */
const sources = new Set<{ upstreams(): number; clients(): number; connections(): number }>();

const sum = (pick: (s: typeof sources extends Set<infer T> ? T : never) => number) => [...sources].reduce((n, s) => n + pick(s), 0);

new Gauge({
  name: 'paygraph_gateway_upstream_subscriptions',
  help: 'Subscriptions the gateway holds open on subgraphs (one per root field, arguments, selection and authorisation context)',
  collect() {
    this.set(sum((s) => s.upstreams()));
  },
});
new Gauge({
  name: 'paygraph_gateway_client_subscriptions',
  help: 'Client subscriptions the gateway is serving',
  collect() {
    this.set(sum((s) => s.clients()));
  },
});
new Gauge({
  name: 'paygraph_gateway_subscription_connections',
  help: 'Open subscription connections: graphql-ws connections and SSE streams (distinct, or reserved single-connection ones)',
  collect() {
    this.set(sum((s) => s.connections()));
  },
});

/** Connections closed with SlowConsumer: a client that stopped reading (or reads too slowly) for its events. */
export const slowConsumerCloses = new Counter({
  name: 'paygraph_gateway_slow_consumer_closes_total',
  help: 'graphql-ws connections the gateway closed with SlowConsumer (4413) because the client did not keep up with its events',
});

export function registerSubscriptionMetrics(source: { upstreams(): number; clients(): number; connections(): number }): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

/** Reads one unlabelled gauge from a Prometheus text page (tests and the benchmark). */
export function readGauge(metricsText: string, name: string): number {
  const line = metricsText.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}
