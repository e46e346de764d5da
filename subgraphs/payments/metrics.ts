import { Gauge, Histogram } from 'prom-client';
import type { PaymentEventDoc, PaymentsRepository } from './repository';
import { PAYMENT_STATUSES } from './state-machine';

/** The repositories whose payments the gauge counts (one per payments subgraph in this process). */
const repositories = new Set<PaymentsRepository>();

new Gauge({
  name: 'paygraph_payments',
  help: 'Payments by current status (counted from the database at scrape time)',
  labelNames: ['status'],
  async collect() {
    const counts = new Map<string, number>(PAYMENT_STATUSES.map((status) => [status, 0]));
    for (const repository of repositories) {
      for (const { _id, count } of await repository.countByStatus()) counts.set(_id, (counts.get(_id) ?? 0) + count);
    }
    this.reset();
    for (const [status, count] of counts) this.set({ status }, count);
  },
});

export function countPaymentsByStatus(repository: PaymentsRepository): () => void {
  repositories.add(repository);
  return () => repositories.delete(repository);
}

/** Open `paymentStatusChanged` streams on this payments process (the gateway's upstream subscriptions). */
export const openEventStreams = new Gauge({
  name: 'paygraph_payment_event_streams',
  help: 'Open paymentStatusChanged event streams served by this payments process',
});

const eventDeliveryLag = new Histogram({
  name: 'paygraph_event_delivery_lag_seconds',
  help: 'From a payment event being appended to the log to its delivery to a subscriber (live events; replays excluded)',
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

// Older events are replays (`after:` resumes), not live delivery: they would swamp the figure.
const REPLAY_AFTER_SECONDS = 60;

export function observeEventDelivery(event: Pick<PaymentEventDoc, 'occurredAt'>): void {
  const seconds = (Date.now() - event.occurredAt.getTime()) / 1000;
  if (seconds >= 0 && seconds < REPLAY_AFTER_SECONDS) eventDeliveryLag.observe(seconds);
}
