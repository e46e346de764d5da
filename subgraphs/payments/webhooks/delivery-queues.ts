import type { DeliveryState, WebhookDeliveryDoc, WebhookEndpointDoc } from './store';

/** What a queue was read against: an endpoint change that did not come from this process (another one queued, a replay, a test event) moves one of these. */
export type EndpointVersion = Pick<WebhookEndpointDoc, 'cursor' | 'generation' | 'updatedAt'>;

/** An outcome this process wrote, applied to a read that may have started before the write. */
interface LocalOutcome {
  state: DeliveryState;
  attemptCount: number;
  nextAttemptAt: Date;
  at: number;
}

interface Queue {
  /** Pending deliveries in sending order: all of them up to `version.cursor`, or a prefix when `truncated`. */
  docs: WebhookDeliveryDoc[];
  truncated: boolean;
  version: EndpointVersion;
  /** When it is read from the database again even if nothing says it changed. */
  readAgainAt: number;
}

export interface QueueTimings {
  /** Most deliveries read per endpoint; a full page is a prefix, read again after `pollMs`. */
  page: number;
  pollMs: number;
  /** A complete queue is read again this often anyway (belt and braces: it stays right without). */
  reloadMs: number;
  /** How long an outcome written here is kept to correct reads that started before it. */
  keepOutcomesMs: number;
}

function sameVersion(a: EndpointVersion, b: EndpointVersion): boolean {
  return a.cursor === b.cursor && a.generation === b.generation && a.updatedAt.getTime() === b.updatedAt.getTime();
}

/**
 * This process's copy of each enabled endpoint's pending deliveries, so a finished send does
 * not cost a read: outcomes written here patch the copy, deliveries queued here join it, and
 * the endpoint is read again only when something else may have changed it (its cursor,
 * generation or updatedAt moved, a claim was refused, a write was refused) or after a while.
 *
 * Why the copy is complete: a process queues deliveries before it moves the cursor, and the
 * events past a cursor are queued only by a process that read that cursor. A copy read after
 * the endpoint was, with deliveries this process queued from that cursor added (none refused
 * as already queued, the cursor move not refused), holds every pending delivery up to the
 * cursor: any other queued in between would have made one of this process's inserts or its
 * cursor move fail, and the queue is then read again.
 */
export class DeliveryQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly outcomes = new Map<string, LocalOutcome>();

  constructor(private readonly timings: QueueTimings) {}

  /** Whether the endpoint's queue must be read before it is used. */
  needsRead(endpoint: WebhookEndpointDoc, now: number): boolean {
    const queue = this.queues.get(endpoint._id);
    return !queue || !sameVersion(queue.version, endpoint) || now >= queue.readAgainAt;
  }

  /** A read of the endpoint's pending deliveries, started at `startedAt` against `version`. */
  loaded(endpointId: string, version: EndpointVersion, docs: WebhookDeliveryDoc[], startedAt: number): void {
    const kept: WebhookDeliveryDoc[] = [];
    for (const doc of docs) {
      const outcome = this.outcomes.get(doc._id);
      if (!outcome || outcome.attemptCount <= doc.attemptCount) kept.push(doc);
      else if (outcome.state === 'pending') kept.push({ ...doc, attemptCount: outcome.attemptCount, nextAttemptAt: outcome.nextAttemptAt });
    }
    const truncated = docs.length >= this.timings.page;
    this.queues.set(endpointId, {
      docs: kept, truncated, version: { cursor: version.cursor, generation: version.generation, updatedAt: version.updatedAt },
      readAgainAt: startedAt + (truncated ? this.timings.pollMs : this.timings.reloadMs),
    });
  }

  /**
   * The deliveries this process queued for the endpoint, with the cursor moved from `before`
   * to `after`: they join the copy if it was read against `before`; else it is read again.
   */
  queued(endpointId: string, before: EndpointVersion, after: number, docs: WebhookDeliveryDoc[]): void {
    const queue = this.queues.get(endpointId);
    if (!queue) return;
    if (!sameVersion(queue.version, before)) {
      this.queues.delete(endpointId);
      return;
    }
    queue.version = { ...queue.version, cursor: after };
    // A prefix stays a prefix: what lies past it is read when it is read again.
    if (queue.truncated || docs.length === 0) return;
    queue.docs = [...queue.docs, ...docs].sort((a, b) => (a.orderKey < b.orderKey ? -1 : a.orderKey > b.orderKey ? 1 : 0));
  }

  /** Read the endpoint's queue again before it is used. */
  forget(endpointId: string): void {
    this.queues.delete(endpointId);
  }

  /** Only these endpoints are enabled: the others' copies are dropped (read again if switched on). */
  retain(endpointIds: Iterable<string>): void {
    const keep = new Set(endpointIds);
    for (const id of this.queues.keys()) if (!keep.has(id)) this.queues.delete(id);
  }

  /** This process wrote an attempt's outcome. */
  recorded(delivery: WebhookDeliveryDoc, outcome: Omit<LocalOutcome, 'at'>, now = Date.now()): void {
    this.outcomes.delete(delivery._id);
    this.outcomes.set(delivery._id, { ...outcome, at: now });
    for (const [id, old] of this.outcomes) {
      if (now - old.at < this.timings.keepOutcomesMs) break;
      this.outcomes.delete(id);
    }
    const queue = this.queues.get(delivery.endpointId);
    if (!queue) return;
    const i = queue.docs.findIndex((d) => d._id === delivery._id);
    if (i < 0) return;
    if (outcome.state === 'pending') queue.docs[i] = { ...queue.docs[i], attemptCount: outcome.attemptCount, nextAttemptAt: outcome.nextAttemptAt };
    else queue.docs.splice(i, 1);
  }

  /**
   * Another process has the delivery's attempt, or our copy was stale: it keeps its place (the
   * payment's next events wait behind it), is not tried before `retryAt`, and the queue is read again by then.
   */
  heldElsewhere(delivery: WebhookDeliveryDoc, retryAt: number): void {
    const queue = this.queues.get(delivery.endpointId);
    if (!queue) return;
    queue.readAgainAt = Math.min(queue.readAgainAt, retryAt);
    const i = queue.docs.findIndex((d) => d._id === delivery._id);
    if (i >= 0) queue.docs[i] = { ...queue.docs[i], nextAttemptAt: new Date(Math.max(retryAt, queue.docs[i].nextAttemptAt.getTime())) };
  }

  /** The endpoint's pending deliveries in sending order (empty when not read). */
  pending(endpointId: string): WebhookDeliveryDoc[] {
    return this.queues.get(endpointId)?.docs ?? [];
  }
}
