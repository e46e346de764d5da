import { randomBytes } from 'node:crypto';
import { createEventBus } from '../runtime/event-bus';
import { freePort, startTestStack, type TestStack } from './support/stack';
import { FULL_EVENT, fundedCustomer, gatewayClient, latestCursorOf, pay, record, startSecondInstance } from './subscriptions-support';

/**
 * Across instances on NATS: two payments processes behind two gateways share one database
 * and one NATS server (subjects under a prefix of this run). A payment made through the
 * first gateway reaches a subscriber of the second, woken through NATS.
 */
const BUS_URL = 'nats://127.0.0.1:4222';
const BUS_PREFIX = `subs${randomBytes(4).toString('hex')}`;
/** No periodic re-read of the event log: an event reaches another process only through the bus. */
const ONLY_THE_BUS_WAKES = { PAYGRAPH_EVENTS_SAFETY_POLL_MS: '3600000' };

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ EVENT_BUS_URL: BUS_URL, EVENT_BUS_PREFIX: BUS_PREFIX, ...ONLY_THE_BUS_WAKES });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

test('an event made behind one gateway reaches a client of another gateway, woken through NATS', async () => {
  const second = await startSecondInstance(stack, { EVENT_BUS_URL: BUS_URL, EVENT_BUS_PREFIX: BUS_PREFIX, ...ONLY_THE_BUS_WAKES }, { payments: await freePort(), gateway: await freePort() });
  const bus = createEventBus({ url: BUS_URL, prefix: BUS_PREFIX });
  try {
    const source = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Nadia Quell');
    const destination = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Tomas Reyburn');
    await pay(stack.gatewayUrl, stack.operatorToken, destination.accountId, source.accountId);
    const notices: { paymentId: string }[] = [];
    bus.subscribe('payment-events', (m) => notices.push(m as { paymentId: string }));
    await bus.ready();

    const { client } = gatewayClient(second.gatewayUrl, stack.operatorToken);
    const after = await latestCursorOf(stack.gatewayUrl, stack.operatorToken, source.accountId);
    const subscription = record(client, FULL_EVENT, { accountId: source.accountId, after });
    const payment = await pay(stack.gatewayUrl, stack.operatorToken, source.accountId, destination.accountId);
    const events = (await subscription.waitForEvents(3)).map((e) => e.paymentStatusChanged);
    expect(events.map((e) => [e.payment.id, e.previousStatus, e.status])).toEqual([
      [payment.id, null, 'PENDING'],
      [payment.id, 'PENDING', 'PROCESSING'],
      [payment.id, 'PROCESSING', 'SETTLED'],
    ]);
    const settled = events[2].payment;
    expect(settled.source).toEqual({ id: source.accountId, customer: { name: 'Nadia Quell', kyc: { tier: 'VERIFIED' } } });
    expect(['LOW', 'MEDIUM']).toContain(settled.riskAssessment?.level);
    expect(settled.complianceCheck).toEqual({ status: 'CLEAR' });
    // One notice per append of events (a payment settled at once appends its three together).
    expect(notices.filter((n) => n.paymentId === payment.id).length).toBeGreaterThanOrEqual(1);
    subscription.stop();
    await client.dispose();
  } finally {
    await bus.close();
    await second.stop();
  }
}, 180_000);
