import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { PaymentEventNotifier } from '../event-notifier';
import type { PaymentsRepository } from '../repository';
import type { WebhooksConfig } from './config';
import { DeliveryQueues, type EndpointVersion } from './delivery-queues';
import { queueNewEvents } from './fan-out';
import { webhookAttempts, webhookDeliveries, webhookDeliveryLag, webhookEndpointsDisabled } from './metrics';
import { nextAttemptAt } from './schedule';
import { openSecret } from './secret-box';
import { postWebhook, type SendResult } from './sender';
import { SIGNATURE_HEADER, signatureHeader } from './signer';
import type { AttemptResult, DeliveryState, WebhookAttemptDoc, WebhookDeliveryDoc, WebhookEndpointDoc, WebhookStore } from './store';
import { RefusedAddressError, resolveTarget, type UrlPolicy } from './url-guard';

/** Pending deliveries looked at per endpoint per pass. */
const PENDING_PAGE = 500;
/** Endpoints whose pending deliveries are read at once. */
const PARALLEL_READS = 16;
/** Attempt numbers skipped past abandoned ones (their process died mid-send) in one go. */
const MAX_TAKEOVERS = 5;
/** A complete copy of an endpoint's queue is read again after this many polls anyway. */
const RELOAD_POLLS = 10;
/**
 * Least time between two reads of the log for new events, per enabled endpoint (at most a
 * poll). Each read moves every endpoint's cursor (a write each): queueing the events of a
 * moment together bounds those writes to about 100/s however many endpoints there are, for
 * half a second of lag with 50 endpoints (a poll at most).
 */
const QUEUE_SPACING_PER_ENDPOINT_MS = 10;

/** Where an attempt left its delivery, as written (null: not this process's to write). */
interface Outcome {
  state: DeliveryState;
  attemptCount: number;
  nextAttemptAt: Date;
}

/** The secrets that sign now: the current one, and a rotated-out one until its grace ends. */
export function signingSecrets(endpoint: WebhookEndpointDoc, key: Buffer, now: Date): string[] {
  return endpoint.secrets
    .filter((s) => s.expiresAt === null || s.expiresAt > now)
    .map((s) => openSecret(key, s.sealed, endpoint._id));
}

/**
 * The deliveries that may go now: per payment only the first pending one (the next waits
 * until it is acknowledged or given up on), and only once due. Payment-less test events wait
 * for nothing. `pending` is in sending order.
 */
export function sendableNow(pending: WebhookDeliveryDoc[], now: Date): { due: WebhookDeliveryDoc[]; nextAt: Date | null } {
  const seen = new Set<string>();
  const due: WebhookDeliveryDoc[] = [];
  let nextAt: Date | null = null;
  for (const delivery of pending) {
    if (delivery.paymentId !== null) {
      if (seen.has(delivery.paymentId)) continue;
      seen.add(delivery.paymentId);
    }
    if (delivery.nextAttemptAt <= now) due.push(delivery);
    else if (nextAt === null || delivery.nextAttemptAt < nextAt) nextAt = delivery.nextAttemptAt;
  }
  return { due, nextAt };
}

/**
 * Delivers the payment event log to webhook endpoints. Every payments process runs one; they
 * share the work through the database: deliveries are queued under unique ids, and each
 * attempt is taken by inserting its own unique id with a lease, so two processes never send
 * the same delivery at once, and one killed mid-send has its attempt taken over once the lease
 * is over (at least once: receivers deduplicate by event id).
 */
export class WebhookDispatcher {
  private readonly owner = `whd_${randomBytes(6).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private pass: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Sends in flight in this process, by delivery id. */
  private readonly sending = new Map<string, Promise<void>>();
  /** Each enabled endpoint's pending deliveries as this process knows them: a finished send costs no read. */
  private readonly queues: DeliveryQueues;
  /**
   * The enabled endpoints, read on each poll and whenever this process changes one. Event
   * notices alone never query while there are none, so a graph without webhooks pays nothing per payment.
   */
  private enabled: WebhookEndpointDoc[] | undefined;
  private readonly stopping = new AbortController();
  /** The log may have events not queued yet (a notice, the poll): only then is it read. */
  private logMoved = true;
  private lastQueuedAt = 0;
  /** Brings the pass that queues what a notice announced, once the spacing is over. */
  private queueTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly payments: PaymentsRepository,
    private readonly notifier: PaymentEventNotifier,
    private readonly config: WebhooksConfig,
    private readonly log: Logger,
  ) {
    // Each POST in flight listens for the stop (and stops listening when done): not a leak.
    setMaxListeners(config.concurrency + 10, this.stopping.signal);
    this.queues = new DeliveryQueues({ page: PENDING_PAGE, pollMs: config.pollMs, reloadMs: RELOAD_POLLS * config.pollMs, keepOutcomesMs: Math.max(60_000, config.leaseMs) });
  }

  private get policy(): UrlPolicy {
    return { httpsOnly: this.config.production, addressGuard: this.config.addressGuard, allowLoopback: this.config.allowLoopback };
  }

  start(): void {
    // An event appended: worth a pass only if some endpoint is enabled (as last read).
    this.unsubscribe = this.notifier.subscribe(() => {
      this.logMoved = true;
      if (this.enabled === undefined || this.enabled.length > 0) this.wake();
    });
    this.timer = setInterval(() => this.refresh(), this.config.pollMs);
    this.timer.unref();
    this.refresh();
  }

  /** Read the enabled endpoints again (the poll, or one changed), then run a pass. */
  refresh(endpointId?: string): void {
    this.enabled = undefined;
    // Another process may have appended events whose notices do not reach this one.
    this.logMoved = true;
    this.wake(endpointId);
  }

  /**
   * Stops looking for work, cuts the POSTs in flight (recorded as aborted, due again at once,
   * for whichever process comes next) and waits until they are recorded.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.queueTimer);
    this.unsubscribe?.();
    this.stopping.abort();
    await this.pass;
    await Promise.all(this.sending.values());
  }

  /** Something may be due (an event appended, a timer, an endpoint changed: its queue is read again): run a pass, or another after the running one. */
  wake(endpointId?: string): void {
    if (endpointId !== undefined) this.queues.forget(endpointId);
    if (this.stopped) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.pass = this.runPasses().finally(() => {
      this.pass = undefined;
    });
  }

  private async runPasses(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.runPass();
      } catch (error) {
        // The database is away (restarting): the timer brings the next pass.
        this.log.warn({ err: error }, 'webhook pass failed; retrying on the next poll');
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async runPass(): Promise<void> {
    this.enabled ??= await this.store.listEnabledEndpoints();
    const endpoints = this.enabled;
    this.queues.retain(endpoints.map((endpoint) => endpoint._id));
    if (endpoints.length === 0) return;
    const queueIn = this.lastQueuedAt + Math.min(this.config.pollMs, QUEUE_SPACING_PER_ENDPOINT_MS * endpoints.length) - Date.now();
    if (this.logMoved && queueIn > 0) {
      this.queueTimer ??= setTimeout(() => {
        this.queueTimer = undefined;
        this.wake();
      }, queueIn);
    } else if (this.logMoved) {
      this.logMoved = false;
      this.lastQueuedAt = Date.now();
      const before = new Map(endpoints.map((e): [string, EndpointVersion] => [e._id, { cursor: e.cursor, generation: e.generation, updatedAt: e.updatedAt }]));
      const { queued, lost, more, stale } = await queueNewEvents(this.store, this.payments, endpoints);
      for (const endpoint of endpoints) {
        if (lost.has(endpoint._id)) this.queues.forget(endpoint._id);
        else this.queues.queued(endpoint._id, before.get(endpoint._id)!, endpoint.cursor, queued.get(endpoint._id) ?? []);
      }
      if (stale) this.refresh();
      if (more) {
        this.logMoved = true;
        this.again = true;
      }
    }
    const reading = endpoints.filter((endpoint) => this.queues.needsRead(endpoint, Date.now()));
    // Read in parallel (a round trip each), a few at a time so one pass does not flood the pool.
    for (let i = 0; i < reading.length && !this.stopped; i += PARALLEL_READS) {
      await Promise.all(reading.slice(i, i + PARALLEL_READS).map(async (endpoint) => {
        const version: EndpointVersion = { cursor: endpoint.cursor, generation: endpoint.generation, updatedAt: endpoint.updatedAt };
        const started = Date.now();
        this.queues.loaded(endpoint._id, version, await this.store.pendingOf(endpoint._id, PENDING_PAGE), started);
      }));
    }
    const now = new Date();
    const dueByEndpoint = endpoints.map((endpoint) => ({ endpoint, due: sendableNow(this.queues.pending(endpoint._id), now).due.filter((d) => !this.sending.has(d._id)) }));
    // Round robin over endpoints: when the concurrency runs out, no endpoint has taken it all
    // (a send ending wakes the next pass).
    for (let round = 0; !this.stopped; round++) {
      const turn = dueByEndpoint.filter(({ due }) => round < due.length);
      if (turn.length === 0) return;
      for (const { endpoint, due } of turn) {
        if (this.sending.size >= this.config.concurrency) return;
        this.startSend(endpoint, due[round]);
      }
    }
  }

  private startSend(endpoint: WebhookEndpointDoc, delivery: WebhookDeliveryDoc): void {
    const send = this.deliver(endpoint, delivery)
      .then((outcome) => {
        this.sending.delete(delivery._id);
        // Written: the copy follows, and the payment's next event may go now. Not ours (another
        // process holds the attempt, or our copy was stale): look again after a poll rather than spin on it.
        if (outcome) this.queues.recorded(delivery, outcome);
        else this.queues.heldElsewhere(delivery, Date.now() + this.config.pollMs);
        this.wake();
      }, (error: unknown) => {
        this.sending.delete(delivery._id);
        this.queues.forget(delivery.endpointId);
        this.log.warn({ err: error, deliveryId: delivery._id }, 'webhook attempt failed to be recorded; it is retried after its lease');
      });
    this.sending.set(delivery._id, send);
  }

  /** Takes the delivery's next attempt number, or learns that someone else has it. */
  private async claim(delivery: WebhookDeliveryDoc): Promise<WebhookAttemptDoc | null> {
    for (let number = delivery.attemptCount + 1, tries = 0; tries < MAX_TAKEOVERS; number++, tries++) {
      const now = new Date();
      const attempt: WebhookAttemptDoc = {
        _id: `${delivery._id}#${number}`, deliveryId: delivery._id, endpointId: delivery.endpointId, number, owner: this.owner,
        startedAt: now, leaseUntil: new Date(now.getTime() + this.config.leaseMs), finishedAt: null, ok: false, statusCode: null, latencyMs: null, error: null,
      };
      if (await this.store.claimAttempt(attempt)) return attempt;
      const taken = await this.store.findAttempt(attempt._id);
      if (!taken) return null;
      if (taken.finishedAt === null && taken.leaseUntil > now) return null; // being sent right now, or our view is stale
      const fresh = await this.store.findDelivery(delivery._id);
      // Its result is on the delivery (or it was given up, or delivered): our view was stale.
      if (!fresh || fresh.state !== 'pending' || fresh.attemptCount >= number) return null;
      if (taken.finishedAt === null) {
        // Its process died mid-send: the receiver may have it or not; send again (at least once).
        await this.store.finishAttempt(taken, { finishedAt: now, ok: false, statusCode: null, latencyMs: null, error: 'abandoned: the sending process stopped before an answer was recorded' });
      } else if (taken.ok) {
        // Recorded acknowledged on the attempt itself (before results moved to the delivery),
        // then the process died before the delivery said so.
        await this.settle(fresh, { number, startedAt: taken.startedAt, finishedAt: taken.finishedAt, ok: true, statusCode: taken.statusCode, latencyMs: taken.latencyMs, error: taken.error }, taken.startedAt);
        return null;
      }
    }
    return null;
  }

  /** One attempt at the delivery, with its outcome as written; null when it was not this process's to make. */
  private async deliver(endpoint: WebhookEndpointDoc, delivery: WebhookDeliveryDoc): Promise<Outcome | null> {
    const attempt = await this.claim(delivery);
    if (!attempt) return null;
    // Whatever goes wrong here is this attempt's failure, recorded and retried on schedule;
    // an attempt left unfinished would only be taken over after its lease, with no backoff.
    const sent = await this.send(endpoint, delivery).catch((error: unknown): SendResult => ({
      ok: false, result: 'error', statusCode: null, latencyMs: 0, error: `error: ${error instanceof Error ? error.message : String(error)}`,
    }));
    webhookAttempts.inc({ result: sent.result });
    const finishedAt = new Date();
    // The attempt's result goes with the delivery's outcome: one write per attempt.
    const result: AttemptResult = { number: attempt.number, startedAt: attempt.startedAt, finishedAt, ok: sent.ok, statusCode: sent.statusCode, latencyMs: sent.latencyMs, error: sent.error };
    const first = delivery.firstAttemptAt ?? attempt.startedAt;
    if (sent.ok) return this.settle(delivery, result, first);
    const retry = async (at: Date): Promise<Outcome | null> =>
      (await this.store.recordOutcome(delivery._id, result, { nextAttemptAt: at, firstAttemptAt: first })) ? { state: 'pending', attemptCount: attempt.number, nextAttemptAt: at } : null;
    // Aborted: not the receiver's failure, so no backoff.
    if (sent.result === 'aborted') return retry(finishedAt);
    const next = nextAttemptAt(this.config.retry, attempt.number, first, finishedAt);
    if (next) return retry(next);
    // The endpoint is switched off before the delivery is given up: until then the payment's
    // next event waits behind it, so nothing more goes to an endpoint that is being disabled.
    await this.disable(endpoint, delivery, attempt.number);
    if (!(await this.store.recordOutcome(delivery._id, result, { state: 'failed', firstAttemptAt: first }))) return null;
    webhookDeliveries.inc({ outcome: 'failed' });
    return { state: 'failed', attemptCount: attempt.number, nextAttemptAt: delivery.nextAttemptAt };
  }

  private async settle(delivery: WebhookDeliveryDoc, result: AttemptResult, first: Date): Promise<Outcome | null> {
    const at = result.finishedAt;
    if (!(await this.store.recordOutcome(delivery._id, result, { state: 'delivered', deliveredAt: at, firstAttemptAt: first }))) return null;
    webhookDeliveries.inc({ outcome: 'delivered' });
    if (delivery.sequence !== null && delivery.generation === 0) webhookDeliveryLag.observe(Math.max(0, (at.getTime() - delivery.occurredAt.getTime()) / 1000));
    return { state: 'delivered', attemptCount: result.number, nextAttemptAt: delivery.nextAttemptAt };
  }

  /** Given up after the whole schedule: the endpoint is switched off and an operator alerted. */
  private async disable(endpoint: WebhookEndpointDoc, delivery: WebhookDeliveryDoc, attempts: number): Promise<void> {
    const reason = `delivery of event ${delivery.eventId} given up after ${attempts} attempts`;
    await this.store.updateEndpoint(endpoint._id, { enabled: false, disabledReason: reason });
    this.refresh();
    webhookEndpointsDisabled.inc();
    this.log.error({ alert: 'webhook_endpoint_disabled', endpointId: endpoint._id, eventId: delivery.eventId, attempts }, `webhook endpoint disabled: ${reason}`);
  }

  /** One POST: the address checked again now (DNS rebinding), signed now, within the timeout. */
  private async send(endpoint: WebhookEndpointDoc, delivery: WebhookDeliveryDoc): Promise<SendResult> {
    let target;
    try {
      target = await resolveTarget(new URL(endpoint.url), this.policy);
    } catch (error) {
      if (!(error instanceof RefusedAddressError)) throw error;
      return { ok: false, result: 'refused_address', statusCode: null, latencyMs: 0, error: `refused: ${error.message}` };
    }
    const now = new Date();
    const signature = signatureHeader(signingSecrets(endpoint, this.config.secretKey, now), delivery.body, Math.floor(now.getTime() / 1000));
    return postWebhook(target, { [SIGNATURE_HEADER]: signature, 'Paygraph-Event-Id': delivery.eventId, 'Paygraph-Event-Type': delivery.type }, delivery.body, this.config.timeoutMs, this.stopping.signal);
  }
}
