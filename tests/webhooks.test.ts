import { join } from 'node:path';
import { signDevToken } from '../runtime/dev-token';
import { graphqlData } from '../scripts/gateway-client';
import { startService } from '../scripts/stack';
import { freePort, startTestStack, type TestStack } from './support/stack';
import { eventually, fundedCustomer, pay } from './subscriptions-support';
import { WebhookReceiver } from './webhooks-support';

/**
 * Webhooks end to end: the real stack (four subgraph processes, the gateway, the embedded
 * database) delivering payment events to real HTTP receivers on loopback, with a short retry
 * schedule. Every receiver verifies every signature.
 */
const WEBHOOK_ENV = {
  PAYGRAPH_WEBHOOK_RETRY_BASE_MS: '200',
  PAYGRAPH_WEBHOOK_RETRY_MAX_MS: '800',
  PAYGRAPH_WEBHOOK_GIVE_UP_AFTER_MS: '600000',
  PAYGRAPH_WEBHOOK_TIMEOUT_MS: '1000',
  PAYGRAPH_WEBHOOK_LEASE_MS: '3000',
  PAYGRAPH_WEBHOOK_POLL_MS: '200',
  // Production's guard, with loopback allowed for the receivers of this test.
  PAYGRAPH_WEBHOOK_ADDRESS_GUARD: 'true',
  PAYGRAPH_WEBHOOK_ALLOW_LOOPBACK: 'true',
};

let stack: TestStack;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  stack = await startTestStack(WEBHOOK_ENV);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
  await stack?.stop();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().start();
  receivers.push(r);
  return r;
}

const ENDPOINT_FIELDS = 'id url events accountId enabled disabledReason signingSecret secretRotationEndsAt cursor';
const CREATE = `mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { ${ENDPOINT_FIELDS} } }`;
const DELIVERIES = `query($e: ID!, $after: String) { webhookDeliveries(endpointId: $e, first: 100, after: $after) {
  edges { cursor node { id eventId type paymentId status attemptCount attempts { number at statusCode latencyMs error } } } pageInfo { hasNextPage endCursor } } }`;
const EVENTS = `query($id: ID!) { payment(id: $id) { id status events { cursor status } } }`;

type Endpoint = { id: string; signingSecret: string | null; cursor: string; enabled: boolean; secretRotationEndsAt: string | null };
type Delivery = { id: string; eventId: string; type: string; paymentId: string | null; status: string; attemptCount: number; attempts: { number: number; statusCode: number | null; latencyMs: number | null; error: string | null }[] };

async function createEndpoint(input: Record<string, unknown>, token = stack.operatorToken): Promise<Endpoint> {
  return (await graphqlData<{ createWebhookEndpoint: Endpoint }>(stack.gatewayUrl, CREATE, { i: input }, token)).createWebhookEndpoint;
}

async function deliveriesOf(endpointId: string): Promise<Delivery[]> {
  const { webhookDeliveries } = await graphqlData<{ webhookDeliveries: { edges: { node: Delivery }[] } }>(stack.gatewayUrl, DELIVERIES, { e: endpointId }, stack.operatorToken);
  return webhookDeliveries.edges.map((e) => e.node);
}

/** The deliveries once all are DELIVERED (a receiver has its answer a moment before the sender records it). */
function deliveredOf(endpointId: string): Promise<Delivery[]> {
  return eventually(() => deliveriesOf(endpointId), (ds) => ds.length > 0 && ds.every((d) => d.status === 'DELIVERED'), 'every delivery recorded as DELIVERED');
}

/** The log's events of these payments, waiting until each has settled (PENDING → PROCESSING → SETTLED). */
async function settledEvents(paymentIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const id of paymentIds) {
    for (let tries = 0; ; tries++) {
      const { payment } = await graphqlData<{ payment: { events: { cursor: string; status: string }[] } }>(stack.gatewayUrl, EVENTS, { id }, stack.operatorToken);
      if (payment.events.some((e) => e.status === 'SETTLED')) {
        out.set(id, payment.events.map((e) => e.cursor));
        break;
      }
      if (tries > 300) throw new Error(`payment ${id} did not settle`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return out;
}

/** Per payment, the event ids in the order the receiver first saw each. */
function orderSeen(r: WebhookReceiver, paymentId: string): string[] {
  return [...new Set(r.received.filter((x) => x.paymentId === paymentId).map((x) => x.eventId))];
}

async function graphqlError(query: string, variables: Record<string, unknown>, token: string): Promise<string | undefined> {
  const result = await stack.graphql(query, variables, token);
  return (result.errors?.[0]?.extensions as { code?: string } | undefined)?.code;
}

test('500s, then timeouts, then 200: every event arrives, signed, in order per payment, retries visible', async () => {
  const r = await receiver();
  // Four 500s, then two requests left hanging past the timeout, then 200 for good.
  r.answer = (n) => (n < 4 ? 500 : n < 6 ? 'hang' : 200);
  const alice = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Alice Webhook');
  const bob = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Bob Webhook');
  const endpoint = await createEndpoint({ url: r.url, accountId: alice.accountId, description: 'flaky receiver' });
  expect(endpoint.signingSecret).toMatch(/^whsec_/);
  r.secrets = [endpoint.signingSecret!];

  const payments = [];
  for (let i = 0; i < 3; i++) payments.push((await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId, '5.00')).id);
  const events = await settledEvents(payments);
  const all = [...events.values()].flat();
  await r.until(() => all.every((id) => r.acknowledged().includes(id)), 'every event acknowledged');

  expect(r.received.every((x) => x.verifiedWith.length === 1)).toBe(true);
  for (const [paymentId, cursors] of events) {
    expect(orderSeen(r, paymentId)).toEqual(cursors);
    expect(r.received.filter((x) => x.paymentId === paymentId).map((x) => x.status)).toEqual(expect.arrayContaining(['PENDING', 'PROCESSING', 'SETTLED']));
  }
  expect(r.overlaps).toEqual([]);
  // Only the endpoint's account's events, nothing else.
  expect(new Set(r.received.map((x) => x.eventId))).toEqual(new Set(all));

  const deliveries = await deliveredOf(endpoint.id);
  expect(deliveries.map((d) => d.eventId).sort()).toEqual([...all].sort());
  const attempts = deliveries.flatMap((d) => d.attempts);
  expect(attempts.filter((a) => a.statusCode === 500)).toHaveLength(4);
  expect(attempts.filter((a) => a.statusCode === null && /no answer within/.test(a.error ?? ''))).toHaveLength(2);
  expect(attempts.filter((a) => a.statusCode === 200)).toHaveLength(all.length);
  expect(attempts.every((a) => typeof a.latencyMs === 'number')).toBe(true);
});

test('a customer manages and receives only its own customer\'s endpoints and events', async () => {
  const r = await receiver();
  const carol = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Carol Webhook');
  const dave = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Dave Webhook');
  const carolToken = await signDevToken({ sub: 'carol', scope: 'payments:read payments:write', customerId: carol.customerId });
  const daveToken = await signDevToken({ sub: 'dave', scope: 'payments:read payments:write', customerId: dave.customerId });

  expect(await graphqlError(CREATE, { i: { url: r.url, accountId: dave.accountId } }, carolToken)).toBe('FORBIDDEN');
  const mine = await createEndpoint({ url: r.url }, carolToken);
  r.secrets = [mine.signingSecret!];
  expect(await graphqlError(DELIVERIES, { e: mine.id }, daveToken)).toBe('NOT_FOUND');
  expect(await graphqlError('mutation($id: ID!) { rotateWebhookSecret(id: $id) { id } }', { id: mine.id }, daveToken)).toBe('NOT_FOUND');
  const listed = await graphqlData<{ webhookEndpoints: { id: string; signingSecret: string | null }[] }>(stack.gatewayUrl, '{ webhookEndpoints { id signingSecret } }', {}, daveToken);
  expect(listed.webhookEndpoints.map((e) => e.id)).not.toContain(mine.id);
  const carols = await graphqlData<{ webhookEndpoints: { id: string; signingSecret: string | null }[] }>(stack.gatewayUrl, '{ webhookEndpoints { id signingSecret } }', {}, carolToken);
  expect(carols.webhookEndpoints).toEqual([{ id: mine.id, signingSecret: null }]);

  // Dave pays Erin (not Carol's) and Carol (hers).
  const erin = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Erin Webhook');
  const notHers = (await pay(stack.gatewayUrl, stack.operatorToken, dave.accountId, erin.accountId, '1.00')).id;
  const hers = (await pay(stack.gatewayUrl, stack.operatorToken, dave.accountId, carol.accountId, '1.00')).id;
  const events = await settledEvents([notHers, hers]);
  await r.until(() => events.get(hers)!.every((id) => r.acknowledged().includes(id)), 'Carol\'s events');
  expect(r.received.some((x) => x.paymentId === notHers)).toBe(false);
  expect(r.received.every((x) => x.verifiedWith.length === 1)).toBe(true);
});

test('a rotated secret: both sign during the grace period; test events and replays from a cursor', async () => {
  const r = await receiver();
  const frank = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Frank Webhook');
  const grace = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Grace Webhook');
  const endpoint = await createEndpoint({ url: r.url, accountId: frank.accountId, events: ['SETTLED', 'PENDING'] });
  const oldSecret = endpoint.signingSecret!;
  const { rotateWebhookSecret: rotated } = await graphqlData<{ rotateWebhookSecret: Endpoint }>(stack.gatewayUrl, `mutation($id: ID!) { rotateWebhookSecret(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: endpoint.id }, stack.operatorToken);
  expect(rotated.signingSecret).toMatch(/^whsec_/);
  expect(rotated.signingSecret).not.toBe(oldSecret);
  expect(rotated.secretRotationEndsAt).not.toBeNull();
  r.secrets = [oldSecret, rotated.signingSecret!];

  const { sendTestWebhookEvent: test } = await graphqlData<{ sendTestWebhookEvent: { eventId: string; type: string; status: string } }>(stack.gatewayUrl, 'mutation($e: ID!) { sendTestWebhookEvent(endpointId: $e) { eventId type status } }', { e: endpoint.id }, stack.operatorToken);
  expect(test).toMatchObject({ type: 'webhook.test', status: 'PENDING' });
  await r.until(() => r.acknowledged().includes(test.eventId), 'the test event');

  const p1 = (await pay(stack.gatewayUrl, stack.operatorToken, frank.accountId, grace.accountId, '2.00')).id;
  const p2 = (await pay(stack.gatewayUrl, stack.operatorToken, frank.accountId, grace.accountId, '3.00')).id;
  const events = await settledEvents([p1, p2]);
  // PENDING and SETTLED only (PROCESSING not asked for).
  const wanted = [p1, p2].flatMap((p) => [events.get(p)![0], events.get(p)![2]]);
  await r.until(() => wanted.every((id) => r.acknowledged().includes(id)), 'the PENDING and SETTLED events');
  const paymentEvents = r.received.filter((x) => x.paymentId !== null);
  expect(paymentEvents.map((x) => x.status).sort()).toEqual(['PENDING', 'PENDING', 'SETTLED', 'SETTLED']);
  // Signed with both secrets: a receiver still on the old one and one on the new both accept it.
  for (const x of r.received) {
    expect(x.signature.match(/v1=/g)).toHaveLength(2);
    expect(x.verifiedWith).toEqual([oldSecret, rotated.signingSecret]);
  }

  // Replay everything after p1's PENDING event: p1's SETTLED, then p2's PENDING and SETTLED, again.
  const before = r.received.length;
  await graphqlData(stack.gatewayUrl, 'mutation($e: ID!, $after: String) { replayWebhookEvents(endpointId: $e, after: $after) { id } }', { e: endpoint.id, after: events.get(p1)![0] }, stack.operatorToken);
  const replayed = () => r.received.slice(before).filter((x) => x.answered === 200).map((x) => x.eventId);
  const expected = [events.get(p1)![2], events.get(p2)![0], events.get(p2)![2]];
  await r.until(() => expected.every((id) => replayed().includes(id)), 'the replayed events');
  expect(replayed().sort()).toEqual([...expected].sort());
  expect(orderSeen({ received: r.received.slice(before) } as WebhookReceiver, p2)).toEqual([events.get(p2)![0], events.get(p2)![2]]);
});

test('the payments process killed (SIGKILL) mid-send and restarted: the event is sent again, nothing is skipped', async () => {
  const r = await receiver();
  let hung = false;
  // The first request hangs (the payments process is killed while it waits); the rest are answered.
  r.answer = () => (hung ? 200 : ((hung = true), 'hang'));
  const henry = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Henry Webhook');
  const ivy = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Ivy Webhook');
  const endpoint = await createEndpoint({ url: r.url, accountId: henry.accountId });
  r.secrets = [endpoint.signingSecret!];
  const first = (await pay(stack.gatewayUrl, stack.operatorToken, henry.accountId, ivy.accountId, '4.00')).id;
  await r.until(() => r.received.length >= 1, 'the first send');
  const payments = stack.processes.get('payments')!;
  const exited = new Promise((resolve) => payments.once('exit', resolve));
  payments.kill('SIGKILL');
  await exited;
  r.releaseHanging();
  await stack.restart('payments');

  const second = (await pay(stack.gatewayUrl, stack.operatorToken, henry.accountId, ivy.accountId, '6.00')).id;
  const events = await settledEvents([first, second]);
  const all = [...events.values()].flat();
  await r.until(() => all.every((id) => r.acknowledged().includes(id)), 'every event after the restart');
  for (const [paymentId, cursors] of events) expect(orderSeen(r, paymentId)).toEqual(cursors);
  expect(r.received.every((x) => x.verifiedWith.length === 1)).toBe(true);
  // The interrupted send is on record as abandoned, then sent again and acknowledged.
  const deliveries = await deliveredOf(endpoint.id);
  const interrupted = deliveries.find((d) => d.eventId === r.received[0].eventId)!;
  expect(interrupted.status).toBe('DELIVERED');
  expect(interrupted.attempts[0].error).toMatch(/abandoned/);
  expect(interrupted.attempts.at(-1)!.statusCode).toBe(200);
});

test('two payments processes share the deliveries and never send one event (or two of one payment) at once', async () => {
  const r = await receiver();
  r.delayMs = 150;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/graphql`;
  const second = await startService(join(__dirname, '..', 'subgraphs', 'payments', 'main.ts'), {
    ...process.env, ...WEBHOOK_ENV, MONGODB_URI: stack.mongoUri, MONGODB_DB_PREFIX: stack.dbPrefix, NODE_ENV: 'test', LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    ACCOUNTS_URL: stack.subgraphUrls.accounts, RISK_URL: stack.subgraphUrls.risk, COMPLIANCE_URL: stack.subgraphUrls.compliance, PAYMENTS_URL: url, PAYMENTS_PORT: String(port),
  }, url.replace(/\/graphql$/, '/readyz'));
  try {
    const jack = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Jack Webhook');
    const kim = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Kim Webhook');
    const endpoint = await createEndpoint({ url: r.url, accountId: jack.accountId });
    r.secrets = [endpoint.signingSecret!];
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => pay(stack.gatewayUrl, stack.operatorToken, jack.accountId, kim.accountId, `1.0${i}`).then((p) => p.id)));
    const events = await settledEvents(ids);
    const all = [...events.values()].flat();
    await r.until(() => all.every((id) => r.acknowledged().includes(id)), 'every event');
    expect(r.overlaps).toEqual([]);
    for (const [paymentId, cursors] of events) expect(orderSeen(r, paymentId)).toEqual(cursors);
    // Nobody crashed: each event was sent exactly once.
    expect(r.received.map((x) => x.eventId).sort()).toEqual([...all].sort());
    // SIGTERM stops it cleanly: its dispatcher finishes what it sends and the process exits 0.
    await second.stop();
    expect(second.child.exitCode).toBe(0);
  } finally {
    await second.stop();
  }
});
