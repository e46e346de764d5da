import { toMoneyOutput } from '../../../runtime/money';
import { encodeEventCursor } from '../cursors';
import type { PaymentDoc, PaymentEventDoc } from '../repository';

/** The event type receivers switch on: `payment.<status>`, e.g. `payment.settled`. */
export function eventType(status: string): string {
  return `payment.${status.toLowerCase()}`;
}

/** The payment as the payments subgraph shows it (its own fields; money as the graph writes it). */
export function paymentView(p: PaymentDoc) {
  return {
    id: p._id,
    status: p.status,
    amount: toMoneyOutput({ minor: p.amountMinor, currency: p.currency }),
    sourceAccountId: p.sourceAccountId,
    destinationAccountId: p.destinationAccountId,
    reference: p.reference,
    failureReason: p.failureReason,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** One delivery's JSON body. `id` is the event's cursor: what receivers deduplicate by. */
export function eventBody(event: PaymentEventDoc, payment: PaymentDoc | null): string {
  return JSON.stringify({
    id: encodeEventCursor(event.sequence),
    type: eventType(event.status),
    occurredAt: event.occurredAt.toISOString(),
    data: { status: event.status, previousStatus: event.previousStatus, payment: payment && paymentView(payment) },
  });
}

/** The body of `sendTestWebhookEvent`: shaped like the rest, about no payment. */
export function testEventBody(id: string, at: Date): string {
  return JSON.stringify({ id, type: 'webhook.test', occurredAt: at.toISOString(), data: { payment: null } });
}
