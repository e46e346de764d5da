import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { PaymentEventNotifier } from '../event-notifier';
import type { PaymentsRepository } from '../repository';
import type { WebhooksConfig } from './config';
import { queueNewEvents } from './fan-out';
import { webhookAttempts, webhookDeliveries, webhookDeliveryLag, webhookEndpointsDisabled } from './metrics';
import { nextAttemptAt } from './schedule';
import { openSecret } from './secret-box';
import { postWebhook, type SendResult } from './sender';
import { SIGNATURE_HEADER, signatureHeader } from './signer';
import type { WebhookAttemptDoc, WebhookDeliveryDoc, WebhookEndpointDoc, WebhookStore } from './store';
import { RefusedAddressError, resolveTarget, type UrlPolicy } from './url-guard';

/** Pending deliveries looked at per endpoint per pass. */
const PENDING_PAGE = 500;
/** Endpoints whose pending deliveries are read at once. */
const PARALLEL_READS = 16;
/** Attempt numbers skipped past abandoned ones (their process died mid-send) in one go. */
const MAX_TAKEOVERS = 5;

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
  /** Per endpoint: when its pending deliveries are next worth a look (absent = now). */
  private readonly nextLook = new Map<string, number>();
  /**
   * The enabled endpoints, read on each poll and whenever this process changes one. Event
   * notices alone never query while there are none, so a graph without webhooks pays nothing per payment.
   */
  private enabled: WebhookEndpointDoc[] | undefined;
  private readonly stopping = new AbortController();
  /** The log may have events not queued yet (a notice, the poll): only then is it read. */
  private logMoved = true;

  constructor(
    private readonly store: WebhookStore,
    private readonly payments: PaymentsRepository,
    private readonly notifier: PaymentEventNotifier,
    private readonly config: WebhooksConfig,
    private readonly log: Logger,
  ) {}

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
    this.unsubscribe?.();
    this.stopping.abort();
    await this.pass;
    await Promise.all(this.sending.values());
  }

  /** Something may be due (an event appended, a timer, an endpoint changed): run a pass, or another after the running one. */
  wake(endpointId?: string): void {
    if (endpointId !== undefined) this.nextLook.delete(endpointId);
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
    if (endpoints.length === 0) return;
    if (this.logMoved) {
      this.logMoved = false;
      const { touched, more, stale } = await queueNewEvents(this.store, this.payments, endpoints);
      for (const id of touched) this.nextLook.delete(id);
      if (stale) this.refresh();
      if (more) {
        this.logMoved = true;
        this.again = true;
      }
    }
    const now = Date.now();
    const looking = endpoints.filter((endpoint) => (this.nextLook.get(endpoint._id) ?? 0) <= now);
    // Read in parallel (a round trip each), a few at a time so one pass does not flood the pool.
    const dueByEndpoint: { endpoint: WebhookEndpointDoc; due: WebhookDeliveryDoc[] }[] = [];
    for (let i = 0; i < looking.length && !this.stopped; i += PARALLEL_READS) {
      await Promise.all(looking.slice(i, i + PARALLEL_READS).map(async (endpoint) => {
        const { due, nextAt } = sendableNow(await this.store.pendingOf(endpoint._id, PENDING_PAGE), new Date(now));
        // Other processes queue and finish deliveries too: look again within a poll at most.
        this.nextLook.set(endpoint._id, Math.min(nextAt?.getTime() ?? Infinity, now + this.config.pollMs));
        dueByEndpoint.push({ endpoint, due: due.filter((d) => !this.sending.has(d._id)) });
      }));
    }
    // Round robin over endpoints: when the concurrency runs out, no endpoint has taken it all.
    for (let round = 0; !this.stopped; round++) {
      const turn = dueByEndpoint.filter(({ due }) => round < due.length);
      if (turn.length === 0) return;
      for (const { endpoint, due } of turn) {
        if (this.sending.size >= this.config.concurrency) {
          // Not looked at again until a send ends (which wakes a pass) or the poll.
          for (const item of dueByEndpoint) if (item.due.length > round) this.nextLook.delete(item.endpoint._id);
          return;
        }
        this.startSend(endpoint, due[round]);
      }
    }
  }

  private startSend(endpoint: WebhookEndpointDoc, delivery: WebhookDeliveryDoc): void {
    const send = this.deliver(endpoint, delivery)
      .then((sent) => {
        this.sending.delete(delivery._id);
        // Sent: the payment's next event may go now. Not sent (another process holds the
        // attempt): look again after a poll rather than spin on it.
        if (sent) this.wake(endpoint._id);
        else this.nextLook.set(endpoint._id, Date.now() + this.config.pollMs);
      }, (error: unknown) => {
        this.sending.delete(delivery._id);
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
      if (taken.finishedAt === null && taken.leaseUntil > now) return null; // being sent right now
      const fresh = await this.store.findDelivery(delivery._id);
      if (!fresh || fresh.state !== 'pending' || fresh.attemptCount >= number) return null; // our view was stale
      if (taken.finishedAt === null) {
        // Its process died mid-send: the receiver may have it or not; send again (at least once).
        await this.store.finishAttempt(taken, { finishedAt: now, ok: false, statusCode: null, latencyMs: null, error: 'abandoned: the sending process stopped before an answer was recorded' });
      } else if (taken.ok) {
        // Acknowledged, then the process died before the delivery said so.
        await this.settle(fresh, taken, taken.startedAt);
        return null;
      }
    }
    return null;
  }

  /** One attempt at the delivery; false when it was not this process's to make. */
  private async deliver(endpoint: WebhookEndpointDoc, delivery: WebhookDeliveryDoc): Promise<boolean> {
    const attempt = await this.claim(delivery);
    if (!attempt) return false;
    // Whatever goes wrong here is this attempt's failure, recorded and retried on schedule;
    // an attempt left unfinished would only be taken over after its lease, with no backoff.
    const result = await this.send(endpoint, delivery).catch((error: unknown): SendResult => ({
      ok: false, result: 'error', statusCode: null, latencyMs: 0, error: `error: ${error instanceof Error ? error.message : String(error)}`,
    }));
    webhookAttempts.inc({ result: result.result });
    const finishedAt = new Date();
    await this.store.finishAttempt(attempt, { finishedAt, ok: result.ok, statusCode: result.statusCode, latencyMs: result.latencyMs, error: result.error });
    if (result.ok) {
      await this.settle(delivery, attempt, delivery.firstAttemptAt ?? attempt.startedAt, finishedAt);
      return true;
    }
    const first = delivery.firstAttemptAt ?? attempt.startedAt;
    if (result.result === 'aborted') {
      // Not the receiver's failure: no backoff.
      await this.store.recordOutcome(delivery._id, attempt.number, { nextAttemptAt: finishedAt, firstAttemptAt: first });
      return true;
    }
    const next = nextAttemptAt(this.config.retry, attempt.number, first, finishedAt);
    if (next) {
      await this.store.recordOutcome(delivery._id, attempt.number, { nextAttemptAt: next, firstAttemptAt: first });
      return true;
    }
    // The endpoint is switched off before the delivery is given up: until then the payment's
    // next event waits behind it, so nothing more goes to an endpoint that is being disabled.
    await this.disable(endpoint, delivery, attempt.number);
    if (await this.store.recordOutcome(delivery._id, attempt.number, { state: 'failed', firstAttemptAt: first })) webhookDeliveries.inc({ outcome: 'failed' });
    return true;
  }

  private async settle(delivery: WebhookDeliveryDoc, attempt: WebhookAttemptDoc, first: Date, at = new Date()): Promise<void> {
    if (!(await this.store.recordOutcome(delivery._id, attempt.number, { state: 'delivered', deliveredAt: at, firstAttemptAt: first }))) return;
    webhookDeliveries.inc({ outcome: 'delivered' });
    if (delivery.sequence !== null && delivery.generation === 0) webhookDeliveryLag.observe(Math.max(0, (at.getTime() - delivery.occurredAt.getTime()) / 1000));
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
