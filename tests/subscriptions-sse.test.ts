import { NetworkError } from 'graphql-sse';
import { signDevToken } from '../runtime/dev-token';
import { graphqlData } from '../scripts/gateway-client';
import { startTestStack, type TestStack } from './support/stack';
import { eventually, FULL_EVENT, fundedCustomer, gatewayClient, gauge, latestCursorOf, pay, record, until, type PaymentEvent } from './subscriptions-support';
import { fetchStream, sseClient, streamUrlOf } from './subscriptions-sse-support';

/**
 * Subscriptions over Server-Sent Events (graphql-sse) on the gateway's /graphql/stream, end to
 * end: four subgraph processes and a gateway on the embedded database. Clients are the
 * graphql-sse client in both of its modes and a plain fetch reader of text/event-stream;
 * payments are made over HTTP through the same gateway.
 */
const PER_CONNECTION = 3;
const KEEP_ALIVE_MS = 300;

let stack: TestStack;
let alice: { customerId: string; accountId: string };
let bob: { customerId: string; accountId: string };

beforeAll(async () => {
  stack = await startTestStack({ SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION), SUBSCRIPTION_KEEPALIVE_MS: String(KEEP_ALIVE_MS) });
  alice = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Alice Marlowe');
  bob = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Bob Castellan');
  await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const metricsUrl = () => stack.gatewayUrl.replace(/\/graphql$/, '/metrics');
const upstreamCount = () => gauge(metricsUrl(), 'paygraph_gateway_upstream_subscriptions');
const clientCount = () => gauge(metricsUrl(), 'paygraph_gateway_client_subscriptions');
const latestCursor = (accountId: string) => latestCursorOf(stack.gatewayUrl, stack.operatorToken, accountId);
const bearer = (token = stack.operatorToken) => ({ authorization: `Bearer ${token}` });
const LIFECYCLE = [
  [null, 'PENDING'],
  ['PENDING', 'PROCESSING'],
  ['PROCESSING', 'SETTLED'],
];

/** Fields from every subgraph: payments (the event), accounts (source, customer), compliance (kyc), risk (at SETTLED). */
function expectFullyResolved(event: PaymentEvent, paymentId: string) {
  expect(event.payment.id).toBe(paymentId);
  expect(event.payment.amount).toEqual({ amount: '10.00', currency: 'USD' });
  expect(event.payment.source).toEqual({ id: alice.accountId, customer: { name: 'Alice Marlowe', kyc: { tier: 'VERIFIED' } } });
  if (event.status === 'SETTLED') {
    expect(['LOW', 'MEDIUM']).toContain(event.payment.riskAssessment?.level);
    expect(event.payment.complianceCheck).toEqual({ status: 'CLEAR' });
  }
}

describe('delivery', () => {
  test.each([
    ['distinct connections', false],
    ['single connection', true],
  ])('graphql-sse client (%s): an event made after subscribing arrives resolved from every subgraph', async (_mode, single) => {
    const client = sseClient(stack.gatewayUrl, stack.operatorToken, single);
    const subscription = record(client, FULL_EVENT, { accountId: alice.accountId, after: await latestCursor(alice.accountId) });
    await eventually(clientCount, (n) => n >= 1, 'the subscription at the gateway');
    const payment = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    const events = (await subscription.waitForEvents(3)).map((e) => e.paymentStatusChanged);
    expect(events.map((e) => [e.previousStatus, e.status])).toEqual(LIFECYCLE);
    for (const event of events) expectFullyResolved(event, payment.id);
    expect(subscription.results.every((r) => r.errors === undefined)).toBe(true);
    subscription.stop();
    client.dispose();
    await eventually(clientCount, (n) => n === 0, 'the subscription gone');
  });

  test('single connection mode: two operations on one stream; stopping one (DELETE) leaves the other running', async () => {
    const client = sseClient(stack.gatewayUrl, stack.operatorToken, true);
    const query = 'subscription($a: ID, $after: String) { paymentStatusChanged(accountId: $a, after: $after) { cursor status payment { id } } }';
    const after = await latestCursor(alice.accountId);
    const ofAlice = record<{ paymentStatusChanged: PaymentEvent }>(client, query, { a: alice.accountId, after });
    const ofBob = record<{ paymentStatusChanged: PaymentEvent }>(client, query, { a: bob.accountId, after });
    await eventually(clientCount, (n) => n === 2, 'both operations at the gateway');
    const connections = await gauge(metricsUrl(), 'paygraph_gateway_subscription_connections');
    expect(connections).toBe(1);
    const first = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    await Promise.all([ofAlice.waitForEvents(3), ofBob.waitForEvents(3)]);
    expect(ofBob.events.map((e) => e.paymentStatusChanged.payment.id)).toEqual([first.id, first.id, first.id]);
    ofBob.stop();
    await eventually(clientCount, (n) => n === 1, 'the stopped operation gone');
    const second = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    await ofAlice.waitForEvents(6);
    expect(ofAlice.events.slice(3).map((e) => e.paymentStatusChanged.payment.id)).toEqual([second.id, second.id, second.id]);
    expect(ofBob.events).toHaveLength(3);
    ofAlice.stop();
    client.dispose();
  });

  test('a plain fetch reader: text/event-stream with keep-alive comments, each event`s cursor as its SSE id', async () => {
    const stream = await fetchStream(stack.gatewayUrl, { query: FULL_EVENT, variables: { accountId: alice.accountId, after: await latestCursor(alice.accountId) } }, bearer());
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const payment = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    await until(() => stream.results.length >= 3, 'three events over fetch');
    const nexts = stream.events.filter((e) => e.event === 'next');
    for (const [i, next] of nexts.entries()) {
      const event: PaymentEvent = stream.results[i].data.paymentStatusChanged;
      expect(next.id).toBe(event.cursor);
      expectFullyResolved(event, payment.id);
    }
    await until(() => stream.events.filter((e) => e.comment).length >= 3, 'keep-alive comments', 10 * KEEP_ALIVE_MS + 5000);
    stream.stop();
    await stream.ended;
  });
});

describe('resume', () => {
  test('Last-Event-ID, or `after`, replays every later event once, in order, then live ones', async () => {
    const carol = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Carol Whitby');
    const start = await latestCursor(alice.accountId); // cursors are global: nothing of Carol's comes before it
    const variables = { accountId: carol.accountId, after: start };
    const witness = record(gatewayClient(stack.gatewayUrl, stack.operatorToken).client, FULL_EVENT, variables);
    const first = await fetchStream(stack.gatewayUrl, { query: FULL_EVENT, variables }, bearer());
    await pay(stack.gatewayUrl, stack.operatorToken, carol.accountId, bob.accountId);
    await until(() => first.results.length >= 2, 'the first two events');
    first.stop();
    await first.ended;
    const lastSeen = first.events.filter((e) => e.event === 'next')[1].id!;

    for (let i = 0; i < 4; i++) await pay(stack.gatewayUrl, stack.operatorToken, carol.accountId, bob.accountId);
    const truth = (await witness.waitForEvents(15)).map((e) => e.paymentStatusChanged.cursor);
    expect(truth[1]).toBe(lastSeen);

    // The reconnect an EventSource makes: the same request (its `after` long past) and Last-Event-ID.
    const resumed = await fetchStream(stack.gatewayUrl, { query: FULL_EVENT, variables }, { ...bearer(), 'last-event-id': lastSeen });
    // And a graphql-sse client resuming by the argument.
    const client = sseClient(stack.gatewayUrl, stack.operatorToken, false);
    const byAfter = record(client, FULL_EVENT, { accountId: carol.accountId, after: lastSeen });
    await until(() => resumed.results.length >= 13, '13 replayed events');
    await byAfter.waitForEvents(13);
    expect(resumed.results.map((r) => r.data.paymentStatusChanged.cursor)).toEqual(truth.slice(2));
    expect(resumed.events.filter((e) => e.event === 'next').map((e) => e.id)).toEqual(truth.slice(2));
    expect(byAfter.events.map((e) => e.paymentStatusChanged.cursor)).toEqual(truth.slice(2));

    const live = await pay(stack.gatewayUrl, stack.operatorToken, carol.accountId, bob.accountId);
    await until(() => resumed.results.length >= 16, 'the live events');
    await byAfter.waitForEvents(16);
    const liveIds = resumed.results.slice(13).map((r) => [r.data.paymentStatusChanged.payment.id, r.data.paymentStatusChanged.previousStatus, r.data.paymentStatusChanged.status]);
    expect(liveIds).toEqual(LIFECYCLE.map(([from, to]) => [live.id, from, to]));
    await witness.waitForEvents(18);
    const everything = witness.events.map((e) => e.paymentStatusChanged.cursor).slice(2);
    expect(resumed.results.map((r) => r.data.paymentStatusChanged.cursor)).toEqual(everything);
    expect(byAfter.events.map((e) => e.paymentStatusChanged.cursor)).toEqual(everything);
    resumed.stop();
    byAfter.stop();
    witness.stop();
    client.dispose();
  }, 120_000);
});

describe('refusals and limits', () => {
  const request = () => ({ query: FULL_EVENT, variables: { accountId: alice.accountId } });

  test('no token, an invalid or an expired one: 401 UNAUTHENTICATED before any stream opens, in both modes', async () => {
    const expired = await signDevToken({ sub: 'late', scope: 'payments:read', expiresIn: -120 });
    for (const headers of [{}, bearer('not.a.jwt'), bearer(expired)]) {
      const stream = await fetchStream(stack.gatewayUrl, request(), headers);
      expect(stream.response.status).toBe(401);
      expect((await stream.response.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      const reservation = await fetch(streamUrlOf(stack.gatewayUrl), { method: 'PUT', headers });
      expect(reservation.status).toBe(401);
      expect((await reservation.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    for (const single of [false, true]) {
      const client = sseClient(stack.gatewayUrl, undefined, single);
      const refused = record(client, FULL_EVENT, request().variables);
      await refused.waitForEnd();
      expect(refused.error).toBeInstanceOf(NetworkError);
      expect((refused.error as NetworkError<Response>).response?.status).toBe(401);
      client.dispose();
    }
  });

  test('a reserved stream serves only the identity that reserved it, and only with its token', async () => {
    const reservation = await fetch(streamUrlOf(stack.gatewayUrl), { method: 'PUT', headers: bearer() });
    expect(reservation.status).toBe(201);
    const token = await reservation.text();
    const operation = (headers: Record<string, string>) =>
      fetch(streamUrlOf(stack.gatewayUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ ...request(), extensions: { operationId: 'op1' } }),
      });
    const other = await signDevToken({ sub: 'mallory', scope: 'payments:read accounts:read' });
    const stolen = await operation({ ...bearer(other), 'x-graphql-event-stream-token': token });
    expect(stolen.status).toBe(403);
    expect((await stolen.json()).errors[0].extensions.code).toBe('FORBIDDEN');
    expect((await operation({ ...bearer(), 'x-graphql-event-stream-token': 'no-such-token' })).status).toBe(404);
    expect((await operation({ 'x-graphql-event-stream-token': token })).status).toBe(401);
    // A reservation whose stream is not opened in time (SUBSCRIPTION_INIT_TIMEOUT_MS, 3 s) lapses.
    const stopOperation = () => fetch(`${streamUrlOf(stack.gatewayUrl)}?operationId=none`, { method: 'DELETE', headers: { 'x-graphql-event-stream-token': token } });
    expect((await stopOperation()).status).toBe(200);
    await eventually(async () => (await stopOperation()).status, (status) => status === 404, 'the unopened reservation to lapse', 10_000);
  });

  test('invalid documents and non-subscriptions are refused on the stream (distinct) or with 400 (single), and one subscription too many with LIMIT_EXCEEDED', async () => {
    const invalid = await fetchStream(stack.gatewayUrl, { query: 'subscription { paymentStatusChanged { noSuchField } }' }, bearer());
    await invalid.ended;
    expect(invalid.response.status).toBe(200);
    expect(invalid.results[0].errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(invalid.events[invalid.events.length - 1].event).toBe('complete');
    const query = await fetchStream(stack.gatewayUrl, { query: '{ __typename }' }, bearer());
    await query.ended;
    expect(query.results[0].errors?.[0].extensions?.code).toBe('OPERATION_NOT_ALLOWED');

    // Single connection mode over plain fetch: reserve, open the stream, start operations on it.
    const url = streamUrlOf(stack.gatewayUrl);
    const token = await (await fetch(url, { method: 'PUT', headers: bearer() })).text();
    const abort = new AbortController();
    const opened = await fetch(url, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token }, signal: abort.signal });
    expect(opened.status).toBe(200);
    const secondOpen = await fetch(`${url}?token=${token}`, { headers: { accept: 'text/event-stream' } });
    expect(secondOpen.status).toBe(409);
    const start = (operationId: string, query: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token, ...bearer() },
        body: JSON.stringify({ query, variables: { id: alice.accountId }, extensions: { operationId } }),
      });
    const cursorOnly = 'subscription($id: ID) { paymentStatusChanged(accountId: $id) { cursor } }';
    const clientsBefore = await clientCount();
    for (let i = 0; i < PER_CONNECTION; i++) expect((await start(`op${i}`, cursorOnly)).status).toBe(202);
    expect((await start('op0', cursorOnly)).status).toBe(409);
    await eventually(clientCount, (n) => n === clientsBefore + PER_CONNECTION, 'the subscriptions held');
    const oneTooMany = await start('op-extra', cursorOnly);
    expect(oneTooMany.status).toBe(400);
    expect((await oneTooMany.json()).errors[0].extensions.code).toBe('LIMIT_EXCEEDED');
    expect((await fetch(`${url}?operationId=op0`, { method: 'DELETE', headers: { 'x-graphql-event-stream-token': token } })).status).toBe(200);
    await eventually(clientCount, (n) => n === clientsBefore + PER_CONNECTION - 1, 'one stopped');
    const notAllowed = await start('op-query', 'query($id: ID!) { account(id: $id) { id } }');
    expect(notAllowed.status).toBe(400);
    expect((await notAllowed.json()).errors[0].extensions.code).toBe('OPERATION_NOT_ALLOWED');
    abort.abort();
    await eventually(clientCount, (n) => n === clientsBefore, 'the stream closed with its operations');

    // The graphql-sse client in single connection mode sees the refusal as a NetworkError with that response.
    const client = sseClient(stack.gatewayUrl, stack.operatorToken, true);
    const refused = record(client, '{ __typename }');
    await refused.waitForEnd();
    expect((refused.error as NetworkError<Response>).response?.status).toBe(400);
    client.dispose();
  });

  test("a customer subscribing to another customer's account gets FORBIDDEN as the stream's last result", async () => {
    const customer = await signDevToken({ sub: 'alice', scope: 'accounts:read payments:read', customerId: alice.customerId });
    const foreign = await fetchStream(stack.gatewayUrl, { query: FULL_EVENT, variables: { accountId: bob.accountId } }, bearer(customer));
    await foreign.ended;
    expect(foreign.results.map((r) => r.errors?.[0].extensions?.code)).toEqual(['FORBIDDEN']);
    expect(foreign.events[foreign.events.length - 1].event).toBe('complete');
  });
});

describe('deduplication', () => {
  test('two SSE clients (one per mode) and a graphql-ws client on the same subscription share one upstream', async () => {
    const payment = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    const baseline = await upstreamCount();
    const clientsAtStart = await clientCount();
    const query = 'subscription($id: ID) { paymentStatusChanged(paymentId: $id) { status payment { id status source { customer { name } } } } }';
    const distinct = sseClient(stack.gatewayUrl, stack.operatorToken, false);
    const single = sseClient(stack.gatewayUrl, stack.operatorToken, true);
    const { client: ws } = gatewayClient(stack.gatewayUrl, stack.operatorToken);
    type Refund = { paymentStatusChanged: { status: string; payment: { id: string; status: string; source: { customer: { name: string } } } } };
    const recordings = [distinct, single, ws].map((client) => record<Refund>(client, query, { id: payment.id }));
    await eventually(clientCount, (n) => n === clientsAtStart + 3, 'three clients subscribed');
    await eventually(upstreamCount, (n) => n === baseline + 1, 'one upstream subscription for three clients');
    await graphqlData(stack.gatewayUrl, 'mutation($i: RefundPaymentInput!) { refundPayment(input: $i) { id } }', {
      i: { paymentId: payment.id, amount: { amount: '10.00', currency: 'USD' }, idempotencyKey: `refund-${payment.id}` },
    }, stack.operatorToken);
    for (const [event] of await Promise.all(recordings.map((r) => r.waitForEvents(1)))) {
      expect(event.paymentStatusChanged).toEqual({ status: 'REFUNDED', payment: { id: payment.id, status: 'REFUNDED', source: { customer: { name: 'Alice Marlowe' } } } });
    }
    expect(await upstreamCount()).toBe(baseline + 1);
    for (const r of recordings) r.stop();
    await eventually(upstreamCount, (n) => n === baseline, 'the upstream closed after the last client');
    distinct.dispose();
    single.dispose();
    await ws.dispose();
  });
});

describe('shutdown', () => {
  test('stopping the gateway completes every SSE subscription with SHUTTING_DOWN', async () => {
    const distinct = sseClient(stack.gatewayUrl, stack.operatorToken, false);
    const single = sseClient(stack.gatewayUrl, stack.operatorToken, true);
    const subscriptions = [distinct, single].map((client) => record(client, FULL_EVENT, { accountId: alice.accountId }));
    const fetched = await fetchStream(stack.gatewayUrl, { query: FULL_EVENT, variables: { accountId: bob.accountId } }, bearer());
    await eventually(clientCount, (n) => n >= 3, 'three subscriptions at the gateway');
    await stack.restart('gateway');
    await Promise.all(subscriptions.map((s) => s.waitForEnd()));
    for (const subscription of subscriptions) {
      expect(subscription.error).toBeUndefined();
      expect(subscription.completed).toBe(true);
      expect(subscription.results[subscription.results.length - 1].errors?.[0].extensions?.code).toBe('SHUTTING_DOWN');
    }
    await fetched.ended;
    expect(fetched.results.map((r) => r.errors?.[0].extensions?.code)).toEqual(['SHUTTING_DOWN']);
    expect(fetched.events[fetched.events.length - 1].event).toBe('complete');
    distinct.dispose();
    single.dispose();
  }, 120_000);
});
