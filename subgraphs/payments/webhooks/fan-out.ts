import { encodeEventCursor } from '../cursors';
import type { PaymentDoc, PaymentEventDoc, PaymentsRepository } from '../repository';
import { eventBody, eventType } from './event-body';
import { eventOrderKey, type WebhookDeliveryDoc, type WebhookEndpointDoc, type WebhookStore } from './store';

/** Events read from the log per pass. */
const PAGE = 500;

/** Whether an endpoint receives this event: its customer's, its account's, the statuses it asked for. */
export function endpointWants(endpoint: WebhookEndpointDoc, event: PaymentEventDoc): boolean {
  if (event.sequence <= endpoint.cursor) return false;
  if (endpoint.customerId !== null && !event.customerIds.includes(endpoint.customerId)) return false;
  if (endpoint.accountId !== null && !event.accountIds.includes(endpoint.accountId)) return false;
  return endpoint.events.length === 0 || endpoint.events.includes(event.status);
}

export function deliveryOf(endpoint: WebhookEndpointDoc, event: PaymentEventDoc, payment: PaymentDoc | null, now: Date): WebhookDeliveryDoc {
  const orderKey = eventOrderKey(endpoint.generation, event.sequence);
  return {
    _id: `${endpoint._id}:${orderKey}`,
    endpointId: endpoint._id,
    generation: endpoint.generation,
    orderKey,
    eventId: encodeEventCursor(event.sequence),
    sequence: event.sequence,
    paymentId: event.paymentId,
    type: eventType(event.status),
    body: eventBody(event, payment),
    occurredAt: event.occurredAt,
    state: 'pending',
    attemptCount: 0,
    nextAttemptAt: now,
    firstAttemptAt: null,
    deliveredAt: null,
    createdAt: now,
  };
}

/**
 * Queues the log's new events as deliveries, then moves each endpoint's cursor past what it
 * read: deliveries first, cursor after, so a crash in between queues them again (the same
 * ids: nothing twice) and never skips. The log is read once for every endpoint, from the
 * lowest cursor. Returns the deliveries this call queued, by endpoint; the endpoints where
 * another process queued some of the same events or moved the cursor first (`lost`: what
 * this process knows of their queue is incomplete); and whether the log goes on past what
 * this call read (`maxPages` full pages).
 */
export async function queueNewEvents(store: WebhookStore, payments: PaymentsRepository, endpoints: WebhookEndpointDoc[], maxPages = 10): Promise<{ queued: Map<string, WebhookDeliveryDoc[]>; lost: Set<string>; more: boolean; stale: boolean }> {
  const queued = new Map<string, WebhookDeliveryDoc[]>();
  const lost = new Set<string>();
  let stale = false;
  let current = endpoints;
  for (let page = 0; current.length > 0; page++) {
    if (page === maxPages) return { queued, lost, more: true, stale };
    const from = Math.min(...current.map((e) => e.cursor));
    const events = await payments.eventsAfter(from, {}, PAGE);
    if (events.length === 0) break;
    const last = events[events.length - 1].sequence;
    const paymentIds = [...new Set(events.map((e) => e.paymentId))];
    const byId = new Map((await payments.findPayments(paymentIds)).map((p) => [p._id, p]));
    const now = new Date();
    const moved: WebhookEndpointDoc[] = [];
    await Promise.all(current.map(async (endpoint) => {
      if (endpoint.cursor >= last) return;
      const wanted = events.filter((event) => endpointWants(endpoint, event));
      const docs = wanted.map((event) => deliveryOf(endpoint, event, byId.get(event.paymentId) ?? null, now));
      const inserted = await Promise.all(docs.map((doc) => store.insertDelivery(doc)));
      const mine = docs.filter((_, i) => inserted[i]);
      if (mine.length < docs.length) lost.add(endpoint._id);
      if (mine.length > 0) queued.set(endpoint._id, [...(queued.get(endpoint._id) ?? []), ...mine]);
      // The caller's copy moves with the stored cursor. Lost to a replay or another process:
      // the caller reads the endpoints again (`stale`) and goes on from what they wrote.
      if (await store.advanceCursor(endpoint, last)) {
        endpoint.cursor = last;
        moved.push(endpoint);
      } else {
        stale = true;
        lost.add(endpoint._id);
      }
    }));
    if (events.length < PAGE) break;
    current = moved;
  }
  return { queued, lost, more: false, stale };
}
