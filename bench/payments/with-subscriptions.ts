import { subscribeToAccount, untilSubscribed } from '../subscriptions';
import { percentile } from '../support';
import { sendPayment, type PaymentPlan } from './create-payment';
import { Outcomes } from './outcomes';

/**
 * Payments at a fixed rate (sent on the clock, open loop) on an account that `subscribers`
 * graphql-ws clients follow (bench/subscriptions.ts's subscribers): what event delivery
 * costs the write path, and how late events reach clients while payments flow.
 */
export interface SubscriptionRunResult {
  subscribers: number;
  targetPaymentsPerSecond: number;
  seconds: number;
  outcomes: Outcomes;
  paymentP50Ms: number;
  paymentP99Ms: number;
  deliveries: number;
  /** Deliveries per subscriber: about three per settled payment (its status changes). */
  eventsPerSubscriber: number;
  failures: number;
  eventP50Ms: number;
  eventP99Ms: number;
  eventMaxMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runWithSubscriptions(options: { gatewayUrl: string; token: string; followedAccountId: string; plan: PaymentPlan; subscribers: number; paymentsPerSecond: number; seconds: number }): Promise<SubscriptionRunResult> {
  const { gatewayUrl, token } = options;
  const subscribers = subscribeToAccount(gatewayUrl, token, options.followedAccountId, options.subscribers);
  try {
    await untilSubscribed(gatewayUrl, options.subscribers);
    const outcomes = new Outcomes();
    const latencies: number[] = [];
    const sent: Promise<void>[] = [];
    const total = Math.max(1, Math.round(options.paymentsPerSecond * options.seconds));
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = started + (i * 1000) / options.paymentsPerSecond - performance.now();
      if (wait > 0) await sleep(wait);
      const input = options.plan.nextInput();
      const sentAt = performance.now();
      sent.push(
        sendPayment(gatewayUrl, token, input).then(({ code, message }) => {
          latencies.push(performance.now() - sentAt);
          outcomes.add(code, message);
        }),
      );
    }
    await Promise.all(sent);
    const seconds = (performance.now() - started) / 1000;
    // Deliveries trail the answers: wait until none has arrived for a second (a minute at most).
    const deadline = Date.now() + 60_000;
    for (let last = -1; subscribers.received() !== last && Date.now() < deadline; ) {
      last = subscribers.received();
      await sleep(1000);
    }
    const events = [...subscribers.latencies].sort((a, b) => a - b);
    return {
      subscribers: options.subscribers,
      targetPaymentsPerSecond: options.paymentsPerSecond,
      seconds,
      outcomes,
      paymentP50Ms: percentile(latencies, 50),
      paymentP99Ms: percentile(latencies, 99),
      deliveries: subscribers.received(),
      eventsPerSubscriber: subscribers.received() / options.subscribers,
      failures: subscribers.failures(),
      eventP50Ms: percentile(events, 50),
      eventP99Ms: percentile(events, 99),
      eventMaxMs: events[events.length - 1] ?? Number.NaN,
    };
  } finally {
    await subscribers.dispose();
  }
}
