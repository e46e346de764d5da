import { randomBytes } from 'node:crypto';
import { SubscriptionCloseCode } from '../gateway/subscriptions/codes';
import { auditBank, type BankAudit } from './support/bank-invariants';
import { startOwnFerretDb, startOwnRedis, type RestartableService } from './support/own-services';
import { operator, signedGraphql } from './support/signed-client';
import { startTestStack, type TestStack } from './support/stack';
import { codesOf, eventually, loggedEventCursors, metricValue, runLoad, settled, signalAndWait } from './resilience-support';
import { fundedCustomer, gatewayClient, latestCursorOf, record, until } from './subscriptions-support';

/**
 * Resilience, end to end on real processes: a subgraph killed under fan-out query load, a
 * subgraph and the gateway stopped with SIGTERM under load, the database restarted under
 * payment load, Redis stopped and restarted under subscription load. The stack runs on a
 * FerretDB and a redis-server of this file's own, so restarting them touches no other test.
 * After each fault the bank invariants hold and every payment has finished or resumed.
 */
const GRACE_MS = 8000;
const DEPOSIT = '1000.00';
const ACCOUNTS = 6;

let db: RestartableService;
let redis: RestartableService;
let stack: TestStack;
let accounts: string[] = [];
let metricsUrl: string;

beforeAll(async () => {
  db = await startOwnFerretDb();
  redis = await startOwnRedis();
  stack = await startTestStack(
    {
      EVENT_BUS_URL: redis.uri,
      EVENT_BUS_PREFIX: `resilience${randomBytes(3).toString('hex')}`,
      // Unfinished payments are re-driven twice a second; a lease left by a killed process lapses quickly.
      PAYGRAPH_RESUME_INTERVAL_MS: '500',
      PAYGRAPH_SAGA_LEASE_MS: '3000',
      // Long enough that live delivery after a Redis restart must come from the bus, not the poll.
      PAYGRAPH_EVENTS_SAFETY_POLL_MS: '60000',
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      COMPLIANCE_AUDIT_POLL_MS: '0',
      // Generous for a busy 2-core machine; risk alone gets a short one for the hang test.
      SUBGRAPH_TIMEOUT_MS: '20000',
      RISK_TIMEOUT_MS: '3000',
      INTERNAL_TIMEOUT_MS: '15000',
    },
    { mongoUri: db.uri },
  );
  metricsUrl = stack.gatewayUrl.replace(/\/graphql$/, '/metrics');
  for (let i = 0; i < ACCOUNTS; i++) accounts.push((await fundedCustomer(stack.gatewayUrl, stack.operatorToken, `Resilient Holder ${i}`, DEPOSIT)).accountId);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.stop('SIGKILL');
  await db?.stop('SIGKILL');
});

const data = async <T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
  const result = await stack.graphql<T>(query, variables);
  if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors));
  return result.data;
};

const CREATE = 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }';
let paymentNumber = 0;

function paymentInput(among = accounts) {
  paymentNumber += 1;
  const source = among[paymentNumber % among.length];
  const destination = among[(paymentNumber + 1 + (paymentNumber % (among.length - 1))) % among.length];
  return {
    idempotencyKey: `resilience-${paymentNumber}-${randomBytes(3).toString('hex')}`,
    sourceAccountId: source,
    destinationAccountId: destination === source ? among[(paymentNumber + 1) % among.length] : destination,
    amount: { amount: `${1 + (paymentNumber % 9)}.${String(paymentNumber % 100).padStart(2, '0')}`, currency: 'USD' },
  };
}

type Created = { createPayment: { id: string; status: string } };

/** Waits until no payment is still moving by itself, then checks the bank invariants. */
async function expectSoundBank(): Promise<BankAudit> {
  const audit = await eventually(() => auditBank(data, accounts, BigInt(ACCOUNTS) * 100_000n), (a) => a.unfinished.length === 0, 'every payment to finish', 60_000);
  expect(audit.violations).toEqual([]);
  return audit;
}

const FAN_OUT = `{ payments(first: 20) { edges { node { id status amount { amount }
  riskAssessment { level } complianceCheck { status } source { id customer { name } } } } } }`;
const WITHOUT_RISK = '{ payments(first: 20) { edges { node { id status complianceCheck { status } source { id balance { amount } } } } } }';

test('a subgraph killed during fan-out query load: partial data with SUBGRAPH_UNAVAILABLE on its fields, fail-fast, recovery after its return', async () => {
  for (let i = 0; i < 4; i++) await data<Created>(CREATE, { i: paymentInput() });
  const outcomes: { status: number; codes: string[] }[] = [];
  const load = runLoad(4, async () => {
    const result = await settled(stack.graphql(FAN_OUT));
    outcomes.push({ status: result.status, codes: codesOf(result) });
  });
  try {
    await until(() => outcomes.length >= 8, 'fan-out queries before the kill');
    const { code } = await signalAndWait(stack.processes.get('risk')!, 'SIGKILL');
    expect(code).toBeNull();

    // The fields risk owns are missing, with the code on each; everything else is there.
    const degraded = await eventually(() => stack.graphql(FAN_OUT), (r) => (r.errors?.length ?? 0) > 0, 'risk fields to fail');
    expect(degraded.status).toBe(200);
    const edges = degraded.data!.payments.edges as any[];
    expect(edges.length).toBeGreaterThanOrEqual(4);
    for (const { node } of edges) {
      expect(node.riskAssessment).toBeNull();
      expect(node.complianceCheck.status).toBe('CLEAR');
      expect(node.source.customer.name).toMatch(/^Resilient Holder/);
    }
    expect(new Set(codesOf(degraded))).toEqual(new Set(['SUBGRAPH_UNAVAILABLE']));
    expect(degraded.errors!.map((e) => e.path!.join('.')).sort()).toEqual(edges.map((_, i) => `payments.edges.${i}.node.riskAssessment`).sort());

    // A query that does not need risk does not notice.
    const unaffected = await stack.graphql(WITHOUT_RISK);
    expect(unaffected.errors).toBeUndefined();
    // A payment made meanwhile is accepted and waits for its risk assessment.
    const waiting = await data<Created>(CREATE, { i: paymentInput() });
    expect(waiting.createPayment.status).toBe('PENDING');
    // The breaker stops calling the dead subgraph: fetches fail fast without a connection attempt.
    await eventually(() => metricValue(metricsUrl, 'paygraph_gateway_subgraph_unavailable_total{subgraph="risk",reason="circuit-open"}'), (n) => n > 0, 'the circuit to open');

    await stack.restart('risk');
    const back = Date.now();
    await eventually(() => stack.graphql(FAN_OUT), (r) => r.status === 200 && !r.errors, 'recovery', 5000);
    console.log(`risk: fan-out queries whole again ${Date.now() - back} ms after the subgraph was ready`);
  } finally {
    await load.stop();
  }
  // Never a crash or an unhandled failure: every answer was a 200, every error SUBGRAPH_UNAVAILABLE.
  expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
  expect([...new Set(outcomes.flatMap((o) => o.codes))].filter((c) => c !== 'SUBGRAPH_UNAVAILABLE')).toEqual([]);
  expect(outcomes.some((o) => o.codes.length > 0)).toBe(true);

  const audit = await expectSoundBank();
  console.log('after the subgraph kill', audit.byStatus);
}, 120_000);

test('a subgraph that hangs (SIGSTOP): its fields time out with SUBGRAPH_UNAVAILABLE, the rest is served, and it recovers on SIGCONT', async () => {
  const risk = stack.processes.get('risk')!;
  risk.kill('SIGSTOP');
  try {
    const slow = await stack.graphql(FAN_OUT);
    expect(slow.status).toBe(200);
    expect(new Set(slow.errors?.map((e) => [e.extensions?.code, e.extensions?.reason].join(' ')))).toEqual(new Set(['SUBGRAPH_UNAVAILABLE timeout']));
    for (const { node } of slow.data!.payments.edges as any[]) {
      expect(node.riskAssessment).toBeNull();
      expect(node.source.customer.name).toMatch(/^Resilient Holder/);
    }
  } finally {
    risk.kill('SIGCONT');
  }
  await eventually(() => stack.graphql(FAN_OUT), (r) => r.status === 200 && !r.errors, 'recovery after SIGCONT', 10_000);
}, 60_000);

test('SIGTERM on a subgraph under mutation load: in-flight payments finish, it exits 0 within the grace period, and comes back', async () => {
  const payments = stack.processes.get('payments')!;
  const inFlight = Array.from({ length: 6 }, () => settled(stack.graphql<Created>(CREATE, { i: paymentInput() })));
  await Promise.race(inFlight);
  const { code, ms } = await signalAndWait(payments, 'SIGTERM');
  const results = await Promise.all(inFlight);
  console.log(`payments subgraph stopped in ${ms} ms (grace ${GRACE_MS} ms)`);
  expect(code).toBe(0);
  // Every mutation the subgraph had accepted got its answer.
  expect(results.map((r) => [r.status, codesOf(r), typeof r.data?.createPayment.id])).toEqual(results.map(() => [200, [], 'string']));
  // Stopped, it takes no work: the gateway answers for it with SUBGRAPH_UNAVAILABLE.
  const refused = await stack.graphql(CREATE, { i: paymentInput() });
  expect(codesOf(refused)).toEqual(['SUBGRAPH_UNAVAILABLE']);

  await stack.restart('payments');
  await eventually(() => stack.graphql(FAN_OUT), (r) => !r.errors, 'payments to answer again', 10_000);
  await expectSoundBank();
}, 120_000);

test('the database restarts under payment load: processes reconnect, no acknowledged payment is lost, interrupted sagas finish once', async () => {
  const acknowledged = new Map<string, { id: string; status: string }>();
  const refused: Record<string, unknown>[] = [];
  const load = runLoad(3, async () => {
    const input = paymentInput();
    const result = await settled(stack.graphql<Created>(CREATE, { i: input }));
    if (result.data?.createPayment) acknowledged.set(input.idempotencyKey, result.data.createPayment);
    else refused.push(input);
  });
  try {
    await until(() => acknowledged.size >= 6, 'payments before the restart');
    await db.stop('SIGKILL');
    await db.start();
    const atRestart = acknowledged.size;
    await until(() => acknowledged.size >= atRestart + 6, 'payments after the restart', 60_000);
  } finally {
    await load.stop();
  }
  console.log(`database restart: ${acknowledged.size} payments acknowledged, ${refused.length} refused during the outage`);

  // A client re-sends what was refused, with the same keys: each key makes one payment.
  for (const input of refused) {
    const again = await data<Created>(CREATE, { i: input });
    acknowledged.set(input.idempotencyKey as string, again.createPayment);
  }
  const audit = await expectSoundBank();
  const byId = new Map(audit.payments.map((p) => [p.id, p.status]));
  for (const { id, status } of acknowledged.values()) {
    expect([id, byId.has(id)]).toEqual([id, true]);
    if (status === 'SETTLED') expect([id, byId.get(id)]).toEqual([id, 'SETTLED']);
  }
  expect(new Set([...acknowledged.values()].map((p) => p.id)).size).toBe(acknowledged.size);
}, 120_000);

const EVENTS = 'subscription($a: ID, $after: String) { paymentStatusChanged(accountId: $a, after: $after) { cursor status payment { id } } }';
type Event = { paymentStatusChanged: { cursor: string; status: string; payment: { id: string } } };

async function openSubscriptions(watched: string[], after: (string | null)[]) {
  const connection = gatewayClient(stack.gatewayUrl, stack.operatorToken);
  const recordings = watched.map((accountId, i) => record<Event>(connection.client, EVENTS, { a: accountId, after: after[i] }));
  await eventually(() => metricValue(metricsUrl, 'paygraph_gateway_client_subscriptions'), (n) => n >= watched.length, 'subscriptions at the gateway');
  return { ...connection, recordings };
}

test('Redis stops and restarts under subscription load: no subscriber is lost and delivery resumes from the log with no gap', async () => {
  const watched = accounts.slice(0, 4);
  const start = await Promise.all(watched.map((a) => latestCursorOf(stack.gatewayUrl, stack.operatorToken, a)));
  const { client, recordings } = await openSubscriptions(watched, start);
  const delivered = () => recordings.reduce((n, r) => n + r.events.length, 0);
  let acknowledged = 0;
  const load = runLoad(2, async () => {
    if ((await settled(stack.graphql<Created>(CREATE, { i: paymentInput(watched) }))).data) acknowledged += 1;
  });
  try {
    await until(() => delivered() >= 6, 'events before Redis stops');
    await redis.stop('SIGTERM');
    const atStop = acknowledged;
    await until(() => acknowledged >= atStop + 4, 'payments while Redis is down');
    await redis.start();
    const atStart = acknowledged;
    await until(() => acknowledged >= atStart + 4, 'payments after Redis is back');
  } finally {
    await load.stop();
  }
  await expectSoundBank();
  for (const [i, recording] of recordings.entries()) {
    const expected = await loggedEventCursors(data, watched[i], start[i]);
    await until(() => recording.events.length >= expected.length || recording.error !== undefined, `account ${i}: ${expected.length} events`, 30_000);
    expect(recording.error).toBeUndefined();
    expect(recording.completed).toBe(false);
    expect(recording.events.map((e) => e.paymentStatusChanged.cursor)).toEqual(expected);
  }
  for (const recording of recordings) recording.stop();
  await client.dispose();
}, 120_000);

test('SIGTERM on the gateway with open subscriptions: in-flight requests answered, subscriptions completed with a reason, resumed with no gap', async () => {
  const watched = accounts.slice(2, 6);
  const start = await Promise.all(watched.map((a) => latestCursorOf(stack.gatewayUrl, stack.operatorToken, a)));
  const { client, closes, recordings } = await openSubscriptions(watched, start);
  await data<Created>(CREATE, { i: paymentInput(watched) });
  await until(() => recordings.some((r) => r.events.length > 0), 'a first event');

  const inFlight = Array.from({ length: 6 }, () => settled(stack.graphql<Created>(CREATE, { i: paymentInput(watched) })));
  await Promise.race(inFlight);
  const { code, ms } = await signalAndWait(stack.processes.get('gateway')!, 'SIGTERM');
  const results = await Promise.all(inFlight);
  console.log(`gateway stopped in ${ms} ms (grace ${GRACE_MS} ms)`);
  expect(code).toBe(0);
  expect(results.map((r) => [r.status, codesOf(r)])).toEqual(results.map(() => [200, []]));
  for (const recording of recordings) {
    await recording.waitForEnd();
    expect(recording.completed).toBe(true);
    expect(recording.results[recording.results.length - 1].errors?.[0].extensions?.code).toBe('SHUTTING_DOWN');
  }
  expect(closes[0]?.code).toBe(SubscriptionCloseCode.GoingAway);
  await client.dispose();

  // Payments go on while the gateway is away (straight to the payments subgraph, signed).
  for (let i = 0; i < 3; i++) {
    const response = await signedGraphql(stack.subgraphUrls.payments, CREATE, { i: paymentInput(watched) }, operator);
    expect(response.errors).toBeUndefined();
  }
  await stack.restart('gateway');
  const resumeFrom = recordings.map((r, i) => r.events.at(-1)?.paymentStatusChanged.cursor ?? start[i]);
  const resumed = await openSubscriptions(watched, resumeFrom);
  await data<Created>(CREATE, { i: paymentInput(watched) });
  await expectSoundBank();
  for (const [i, recording] of resumed.recordings.entries()) {
    const expected = await loggedEventCursors(data, watched[i], start[i]);
    const before = recordings[i].events.length;
    await until(() => before + recording.events.length >= expected.length || recording.error !== undefined, `account ${i}: ${expected.length} events`, 30_000);
    expect(recording.error).toBeUndefined();
    const all = [...recordings[i].events, ...recording.events].map((e) => e.paymentStatusChanged.cursor);
    expect(all).toEqual(expected);
  }
  for (const recording of resumed.recordings) recording.stop();
  await resumed.client.dispose();
}, 120_000);
