import type { Collection, Db, Filter } from 'mongodb';
import { conditionalUpdates, guardedInserts, type ConditionalUpdate } from '../../../runtime/batched-commands';
import type { TickBatcher } from '../../../runtime/tick-batcher';
import type { PaymentStatus } from '../state-machine';
import { mergeAttempts } from './attempt-history';
import type { SealedSecret } from './secret-box';

/** The only module touching the webhook collections; their indexes are declared here. */

export interface EndpointSecret {
  sealed: SealedSecret;
  createdAt: Date;
  /** Set when rotated out: it still signs until then. */
  expiresAt: Date | null;
}

export interface WebhookEndpointDoc {
  _id: string;
  url: string;
  /** Statuses whose events are sent; empty = every event. */
  events: PaymentStatus[];
  /** Only this account's payments (source or destination), when set. */
  accountId: string | null;
  /** Whose events these are: a customer's endpoint receives only that customer's payments; null = an operator's, every payment. */
  customerId: string | null;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  secrets: EndpointSecret[];
  /** The event log's sequence up to which this endpoint's deliveries are queued. */
  cursor: number;
  /** Bumped by each replay, so replayed deliveries are new documents. */
  generation: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryDoc {
  /** `<endpointId>:<orderKey>`: one delivery per endpoint, generation and event. */
  _id: string;
  endpointId: string;
  generation: number;
  /** Sorts an endpoint's deliveries in the order they must go: generation, then log sequence. */
  orderKey: string;
  /** The event id receivers deduplicate by: the event's cursor (or `test_…`). */
  eventId: string;
  sequence: number | null;
  /** Deliveries of one payment go one after the other; null (a test event) waits for nothing. */
  paymentId: string | null;
  type: string;
  /** The exact JSON sent, every attempt alike. */
  body: string;
  occurredAt: Date;
  state: DeliveryState;
  attemptCount: number;
  nextAttemptAt: Date;
  firstAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  /**
   * Each finished attempt's result, written with the outcome it led to (one update per
   * attempt); absent on deliveries not tried yet. The attempt documents are the leases.
   */
  attemptResults?: AttemptResult[];
}

/** What one POST came to, as recorded on its delivery. */
export interface AttemptResult {
  number: number;
  startedAt: Date;
  finishedAt: Date;
  ok: boolean;
  statusCode: number | null;
  latencyMs: number | null;
  error: string | null;
}

export interface WebhookAttemptDoc {
  /**
   * `<deliveryId>#<number>`: the unique id is the lock, so two processes never send one attempt.
   * Its result goes on the delivery (`attemptResults`), so `finishedAt` stays null here except
   * for an attempt recorded as abandoned by the process that took it over.
   */
  _id: string;
  deliveryId: string;
  endpointId: string;
  number: number;
  owner: string;
  startedAt: Date;
  /** Past this an unfinished attempt is taken to have died with its process. */
  leaseUntil: Date;
  finishedAt: Date | null;
  ok: boolean;
  statusCode: number | null;
  latencyMs: number | null;
  error: string | null;
}

/**
 * The payments subgraph keeps webhooks in a database of their own: the payment write path's
 * command budget (command-counts.int.test.ts) counts the payments database, and the
 * dispatcher's polling must not show up in it.
 */
export const WEBHOOKS_DATABASE = 'payment_webhooks';

export function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function eventOrderKey(generation: number, sequence: number): string {
  return `${pad(generation, 6)}:${pad(sequence, 15)}`;
}

export class WebhookStore {
  readonly endpoints: Collection<WebhookEndpointDoc>;
  readonly deliveries: Collection<WebhookDeliveryDoc>;
  readonly attempts: Collection<WebhookAttemptDoc>;
  // Concurrent sends share their commands (group commit, runtime/batched-commands.ts).
  private readonly deliveryInserts: TickBatcher<WebhookDeliveryDoc, boolean>;
  private readonly attemptInserts: TickBatcher<WebhookAttemptDoc, boolean>;
  private readonly deliveryUpdates: TickBatcher<ConditionalUpdate<WebhookDeliveryDoc>, boolean>;
  private readonly attemptUpdates: TickBatcher<ConditionalUpdate<WebhookAttemptDoc>, boolean>;
  private readonly cursorUpdates: TickBatcher<ConditionalUpdate<WebhookEndpointDoc>, boolean>;

  constructor(db: Db) {
    this.endpoints = db.collection<WebhookEndpointDoc>('webhook_endpoints');
    this.deliveries = db.collection<WebhookDeliveryDoc>('webhook_deliveries');
    this.attempts = db.collection<WebhookAttemptDoc>('webhook_attempts');
    this.deliveryInserts = guardedInserts(this.deliveries);
    this.attemptInserts = guardedInserts(this.attempts);
    this.deliveryUpdates = conditionalUpdates(this.deliveries);
    this.attemptUpdates = conditionalUpdates(this.attempts);
    this.cursorUpdates = conditionalUpdates(this.endpoints);
  }

  async ensureIndexes(): Promise<void> {
    // webhookEndpoints of a customer; the dispatcher's list of enabled endpoints.
    await this.endpoints.createIndex({ customerId: 1 });
    await this.endpoints.createIndex({ enabled: 1 });
    // The dispatcher: an endpoint's pending deliveries in sending order.
    await this.deliveries.createIndex({ endpointId: 1, state: 1, orderKey: 1 });
    // webhookDeliveries pages by _id within an endpoint.
    await this.deliveries.createIndex({ endpointId: 1, _id: 1 });
    await this.attempts.createIndex({ deliveryId: 1, number: 1 });
  }

  // ---- endpoints ----

  async insertEndpoint(doc: WebhookEndpointDoc): Promise<void> {
    await this.endpoints.insertOne(doc);
  }

  findEndpoint(id: string): Promise<WebhookEndpointDoc | null> {
    return this.endpoints.findOne({ _id: id });
  }

  listEndpoints(customerId: string | undefined): Promise<WebhookEndpointDoc[]> {
    return this.endpoints.find(customerId === undefined ? {} : { customerId }).sort({ _id: 1 }).limit(1000).toArray();
  }

  listEnabledEndpoints(): Promise<WebhookEndpointDoc[]> {
    return this.endpoints.find({ enabled: true }).toArray();
  }

  /** A change the dispatchers must see (their queue of the endpoint is read again): `updatedAt` moves. */
  async touchEndpoint(id: string): Promise<void> {
    await this.endpoints.updateOne({ _id: id }, { $set: { updatedAt: new Date() } });
  }

  async updateEndpoint(id: string, set: Partial<WebhookEndpointDoc>): Promise<WebhookEndpointDoc | null> {
    return this.endpoints.findOneAndUpdate({ _id: id }, { $set: { ...set, updatedAt: new Date() } }, { returnDocument: 'after' });
  }

  /** Compare-and-set on the secrets list (a rotation racing another keeps one of them whole). */
  async replaceSecrets(endpoint: WebhookEndpointDoc, secrets: EndpointSecret[]): Promise<boolean> {
    const result = await this.endpoints.updateOne({ _id: endpoint._id, updatedAt: endpoint.updatedAt }, { $set: { secrets, updatedAt: new Date() } });
    return result.matchedCount === 1;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    const { deletedCount } = await this.endpoints.deleteOne({ _id: id });
    await this.deliveries.deleteMany({ endpointId: id });
    await this.attempts.deleteMany({ endpointId: id });
    return deletedCount === 1;
  }

  /** Moves the cursor on, unless a replay (a new generation) or another process moved it first. */
  async advanceCursor(endpoint: Pick<WebhookEndpointDoc, '_id' | 'generation' | 'cursor'>, to: number): Promise<boolean> {
    return this.cursorUpdates.submit({ filter: { _id: endpoint._id, generation: endpoint.generation, cursor: endpoint.cursor }, update: { $set: { cursor: to } } });
  }

  /** Starts a new generation from `after`: every later event is queued again. */
  async restartFrom(endpoint: Pick<WebhookEndpointDoc, '_id' | 'generation'>, after: number): Promise<boolean> {
    const result = await this.endpoints.updateOne({ _id: endpoint._id, generation: endpoint.generation }, { $set: { cursor: after, generation: endpoint.generation + 1, updatedAt: new Date() } });
    return result.matchedCount === 1;
  }

  // ---- deliveries ----

  /** False when the delivery is queued already (a second process, or a retry after a crash). */
  insertDelivery(doc: WebhookDeliveryDoc): Promise<boolean> {
    return this.deliveryInserts.submit(doc);
  }

  findDelivery(id: string): Promise<WebhookDeliveryDoc | null> {
    return this.deliveries.findOne({ _id: id });
  }

  /** An endpoint's pending deliveries in sending order (without their attempts' results, which sending does not need). */
  pendingOf(endpointId: string, limit: number): Promise<WebhookDeliveryDoc[]> {
    return this.deliveries.find({ endpointId, state: 'pending' }, { batchSize: limit, projection: { attemptResults: 0 } }).sort({ orderKey: 1 }).limit(limit).toArray();
  }

  /**
   * Applies an attempt's outcome and records its result, once: only while still pending and
   * behind this attempt. One write per attempt (the attempt document is not updated).
   */
  recordOutcome(deliveryId: string, result: AttemptResult, set: Partial<WebhookDeliveryDoc>): Promise<boolean> {
    return this.deliveryUpdates.submit({
      filter: { _id: deliveryId, state: 'pending', attemptCount: { $lt: result.number } },
      update: { $set: { ...set, attemptCount: result.number }, $push: { attemptResults: result } },
    });
  }

  /** A page of an endpoint's deliveries in queue order. */
  deliveriesPage(endpointId: string, afterId: string | undefined, limit: number): Promise<WebhookDeliveryDoc[]> {
    const filter: Filter<WebhookDeliveryDoc> = { endpointId };
    if (afterId !== undefined) filter._id = { $gt: afterId };
    return this.deliveries.find(filter, { batchSize: limit, projection: { body: 0 } }).sort({ _id: 1 }).limit(limit).toArray();
  }

  // ---- attempts ----

  /** Takes attempt `doc.number` of its delivery: false when some process has it already. */
  claimAttempt(doc: WebhookAttemptDoc): Promise<boolean> {
    return this.attemptInserts.submit(doc);
  }

  findAttempt(id: string): Promise<WebhookAttemptDoc | null> {
    return this.attempts.findOne({ _id: id });
  }

  finishAttempt(doc: WebhookAttemptDoc, result: Pick<WebhookAttemptDoc, 'finishedAt' | 'ok' | 'statusCode' | 'latencyMs' | 'error'>): Promise<boolean> {
    return this.attemptUpdates.submit({ filter: { _id: doc._id, finishedAt: null }, update: { $set: result } });
  }

  /** Every attempt of these deliveries, by delivery then number: the leases with the results recorded on their deliveries. */
  async attemptsOf(deliveryIds: readonly string[]): Promise<WebhookAttemptDoc[]> {
    const ids = [...deliveryIds];
    const [leases, deliveries] = await Promise.all([
      this.attempts.find({ deliveryId: { $in: ids } }).sort({ deliveryId: 1, number: 1 }).toArray(),
      this.deliveries.find({ _id: { $in: ids } }, { projection: { endpointId: 1, attemptResults: 1 } }).toArray(),
    ]);
    return mergeAttempts(leases, deliveries).sort((a, b) => (a.deliveryId < b.deliveryId ? -1 : a.deliveryId > b.deliveryId ? 1 : a.number - b.number));
  }
}
