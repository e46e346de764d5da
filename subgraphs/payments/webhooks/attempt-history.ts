import type { WebhookAttemptDoc, WebhookDeliveryDoc } from './store';

/**
 * The attempts as the graph shows them: each attempt's lease document (when it started, by
 * whom) with the result its delivery recorded. A lease without a result is in flight, or was
 * recorded on the lease itself (abandoned, or written before results moved to the delivery).
 */
export function mergeAttempts(leases: WebhookAttemptDoc[], deliveries: Pick<WebhookDeliveryDoc, '_id' | 'endpointId' | 'attemptResults'>[]): WebhookAttemptDoc[] {
  const byId = new Map(leases.map((lease) => [lease._id, lease]));
  for (const delivery of deliveries) {
    for (const result of delivery.attemptResults ?? []) {
      const id = `${delivery._id}#${result.number}`;
      const lease = byId.get(id);
      byId.set(id, {
        _id: id, deliveryId: delivery._id, endpointId: delivery.endpointId, owner: lease?.owner ?? '', leaseUntil: lease?.leaseUntil ?? result.finishedAt,
        ...result,
      });
    }
  }
  return [...byId.values()];
}
