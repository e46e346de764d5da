import { envInt } from '../../runtime/config';
import { forbidden, notFound } from '../../runtime/errors';
import { requireScope } from '../../runtime/identity';
import type { PaymentsContext } from './context';
import { decodeEventCursor } from './cursors';
import type { PaymentEventNotifier } from './event-notifier';
import { canSeePayment } from './payment-service';
import type { EventFilter, PaymentEventDoc, PaymentsRepository } from './repository';
import { validateId } from './rules';
import { observeEventDelivery, openEventStreams } from './metrics';

const PAGE = 100;
/** Pause before re-reading the log after a failed read. */
const READ_RETRY_MS = 250;
/**
 * Re-read the log now and then even without a notification (a notifier across processes may
 * drop one). Env PAYGRAPH_EVENTS_SAFETY_POLL_MS, default 5000.
 */
const safetyPollMs = () => envInt('PAYGRAPH_EVENTS_SAFETY_POLL_MS', 5_000, { min: 100 });

/**
 * The events of the log after `afterSequence` matching `filter`, oldest first, then live:
 * woken by the notifier, it always reads the durable log from the last delivered sequence,
 * so replay and live meet with no gap and no duplicate.
 */
export function paymentEventStream(
  repository: PaymentsRepository,
  notifier: PaymentEventNotifier,
  filter: EventFilter,
  afterSequence: number,
): AsyncIterableIterator<PaymentEventDoc> {
  let last = afterSequence;
  let buffer: PaymentEventDoc[] = [];
  let dirty = true;
  let done = false;
  let wake: (() => void) | null = null;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const unsubscribe = notifier.subscribe(poke);
  const timer = setInterval(poke, safetyPollMs());
  timer.unref();
  openEventStreams.inc();
  const close = () => {
    if (!done) openEventStreams.dec();
    done = true;
    unsubscribe();
    clearInterval(timer);
    wake?.();
  };
  const iterator: AsyncIterableIterator<PaymentEventDoc> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      while (!done) {
        const event = buffer.shift();
        if (event) {
          last = event.sequence;
          observeEventDelivery(event);
          return { value: event, done: false };
        }
        if (dirty) {
          dirty = false;
          try {
            buffer = await repository.eventsAfter(last, filter, PAGE);
          } catch {
            // The database is away (restarting): keep the subscriber and read again shortly
            // from the same sequence; nothing is skipped.
            dirty = true;
            await new Promise((resolve) => setTimeout(resolve, READ_RETRY_MS));
            continue;
          }
          if (buffer.length === PAGE) dirty = true;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      return { value: undefined, done: true };
    },
    async return() {
      close();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      close();
      throw error;
    },
  };
  return iterator;
}

/** `paymentStatusChanged`: authorise the filter, then stream from `after` (or from now). */
export async function subscribePaymentStatusChanged(
  args: { paymentId?: unknown; accountId?: unknown; after?: unknown },
  ctx: PaymentsContext,
): Promise<AsyncIterableIterator<PaymentEventDoc>> {
  const { identity } = ctx;
  requireScope(identity, 'payments:read');
  const filter: EventFilter = {};
  const customer = identity.internal ? undefined : identity.customerId;
  if (args.paymentId !== undefined && args.paymentId !== null) {
    filter.paymentId = validateId(args.paymentId, 'paymentId');
    const p = await ctx.repository.findPayment(filter.paymentId);
    if (!p) throw notFound('payment', filter.paymentId);
    if (!canSeePayment(identity, p)) throw forbidden('not your payment');
  }
  if (args.accountId !== undefined && args.accountId !== null) {
    filter.accountId = validateId(args.accountId, 'accountId');
    if (customer !== undefined) {
      const [facts] = await ctx.collaborators.accountFacts([filter.accountId]);
      if (!facts || facts.customerId !== customer) throw forbidden('not your account');
    }
  }
  if (customer !== undefined) filter.customerId = customer;
  const start = args.after !== undefined && args.after !== null ? decodeEventCursor(args.after) : undefined;
  // Live only: start at the log's end now; the stream reads the log from there, so an event
  // appended meanwhile has a later sequence and is still delivered.
  const now = start ?? (await ctx.repository.lastSequence());
  return paymentEventStream(ctx.repository, ctx.notifier, filter, now);
}
