import { Counter, Gauge, Histogram } from 'prom-client';
import type { PaymentEventDoc, PaymentsRepository } from './repository';
import { IN_FLIGHT_STATUSES, type PaymentStatus } from './state-machine';

/** The repositories whose payments the gauge counts (one per payments subgraph in this process). */
const repositories = new Set<PaymentsRepository>();

/**
 * Payments still in flight, by status, counted from the database at scrape time: what an
 * operator alerts on (a queue that grows, a payment stuck in PROCESSING). Only in-flight
 * statuses, read through the status index: counting every settled payment on each scrape
 * would read the whole collection (26 s at 50,000 payments on the embedded store). Payments
 * reaching SETTLED, FAILED and the rest are counted by paygraph_payment_status_changes_total.
 */
new Gauge({
  name: 'paygraph_payments',
  help: 'Payments in an in-flight status (PENDING, REQUIRES_REVIEW, REQUIRES_APPROVAL, PROCESSING), counted from the database at scrape time',
  labelNames: ['status'],
  async collect() {
    const counts = new Map<string, number>(IN_FLIGHT_STATUSES.map((status) => [status, 0]));
    for (const repository of repositories) {
      for (const { status, count } of await repository.countInFlight()) counts.set(status, (counts.get(status) ?? 0) + count);
    }
    this.reset();
    for (const [status, count] of counts) this.set({ status }, count);
  },
});

/** createPayment calls refused by the admission queue (LIMIT_EXCEEDED). */
export const paymentsRefused = new Counter({
  name: 'paygraph_payments_refused_total',
  help: 'createPayment calls refused at once because the admission queue was full (LIMIT_EXCEEDED with retryAfterMs)',
});

const statusChanges = new Counter({
  name: 'paygraph_payment_status_changes_total',
  help: 'Payment status changes recorded by this process, by the status entered (creation enters PENDING)',
  labelNames: ['status'],
});

export function countStatusChange(status: PaymentStatus): void {
  statusChanges.inc({ status });
}

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
