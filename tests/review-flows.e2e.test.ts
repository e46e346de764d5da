import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signDevToken } from '../runtime/dev-token';
import { openCustomerAccount, startTestStack, type TestStack } from './support/stack';

/**
 * The decisions of risk and compliance drive real payments end to end, through the gateway
 * and every subgraph process: a risk review, a sanctions match resolved by an officer, a
 * sanctioned payee blocked, and maker-checker approval — with the money checked each time.
 */
let stack: TestStack;
let approverToken: string;

beforeAll(async () => {
  stack = await startTestStack();
  approverToken = await signDevToken({ sub: 'second-approver', scope: 'payments:read payments:approve' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

const account = (name: string, deposit: string) => openCustomerAccount(stack, name, deposit, 'ENHANCED');

async function pay(key: string, source: string, destination: string, amount: string) {
  const { createPayment } = await data('mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }', {
    i: { idempotencyKey: key, sourceAccountId: source, destinationAccountId: destination, amount: { amount, currency: 'USD' } },
  });
  return createPayment as { id: string; status: string };
}

const PAYMENT = `query($id: ID!) { payment(id: $id) {
  status failureReason
  events { status }
  riskAssessment { level decision review { decision reviewer } }
  complianceCheck { status matches { listEntryId } resolution { status officer } }
  source { balance { amount } }
  destination { balance { amount } }
} }`;

/** The saga continues asynchronously after a review: wait until the payment settles into `status`. */
async function paymentReaches(id: string, status: string): Promise<Record<string, any>> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { payment } = await data(PAYMENT, { id });
    // The status is stored first and its event appended right after: wait for both.
    if (payment.status === status && payment.events.some((event: { status: string }) => event.status === status)) return payment;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`payment ${id} never reached ${status}`);
}

/** Operators follow HIGH and CRITICAL assessments live, through the gateway, resolved across subgraphs. */
function followRiskAlerts(): { alerts: Record<string, any>[]; ready: Promise<void>; stop: () => Promise<void> } {
  const alerts: Record<string, any>[] = [];
  const client = createClient({ url: stack.gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${stack.operatorToken}` } });
  const unsubscribe = client.subscribe(
    { query: 'subscription { riskAlertRaised { level score reasons payment { id amount { amount currency } source { id } } } }' },
    { next: (result) => alerts.push(result.data?.riskAlertRaised as Record<string, any>), error: () => {}, complete: () => {} },
  );
  return { alerts, ready: upstreamSubscriptionOpen(), stop: async () => { unsubscribe(); await client.dispose(); } };
}

/** Waits until the gateway runs the subscription upstream (its metrics say so), so no alert is missed. */
async function upstreamSubscriptionOpen(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const metrics = await (await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
    const line = metrics.split('\n').find((l) => l.startsWith('paygraph_gateway_upstream_subscriptions '));
    if (line && Number(line.split(' ')[1]) >= 1) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the risk alert subscription never reached the risk subgraph');
}

test('a risk review approves a large payment, a second person approves it, and it settles', async () => {
  const source = await account('Rhea Large', '80000.00');
  const destination = await account('Sam Receiver', '0.00');
  const following = followRiskAlerts();
  await following.ready;
  // 50,000.00 from a day-old account: amount 40 + new account 20 + round amount 10 = 70, REVIEW.
  const created = await pay('review-1', source, destination, '50000.00');
  expect(created.status).toBe('REQUIRES_REVIEW');

  // A score of 70 is HIGH: operators got an alert, with the payment resolved from payments.
  for (let attempt = 0; attempt < 100 && following.alerts.length === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
  await following.stop();
  expect(following.alerts).toEqual([
    { level: 'HIGH', score: 70, reasons: expect.arrayContaining([expect.any(String)]), payment: { id: created.id, amount: { amount: '50000.00', currency: 'USD' }, source: { id: source } } },
  ]);

  const { riskReviewQueue } = await data('{ riskReviewQueue(first: 50) { edges { node { score decision payment { id } } } } }');
  expect(riskReviewQueue.edges.map((edge: any) => edge.node.payment.id)).toContain(created.id);

  const { reviewRiskAssessment } = await data('mutation($id: ID!) { reviewRiskAssessment(paymentId: $id, decision: APPROVE, note: "known customer") { decision } }', { id: created.id });
  expect(reviewRiskAssessment.decision).toBe('APPROVE');
  // At or above 10,000 USD it now waits for a checker other than its maker.
  await paymentReaches(created.id, 'REQUIRES_APPROVAL');
  const own = await stack.graphql('mutation($id: ID!) { approvePayment(id: $id) { status } }', { id: created.id });
  expect(own.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

  const { approvePayment } = await data('mutation($id: ID!) { approvePayment(id: $id) { status } }', { id: created.id }, approverToken);
  expect(approvePayment.status).toBe('SETTLED');
  const payment = await paymentReaches(created.id, 'SETTLED');
  expect(payment.riskAssessment).toEqual({ level: 'HIGH', decision: 'APPROVE', review: { decision: 'APPROVE', reviewer: 'test-operator' } });
  expect(payment.events.map((event: { status: string }) => event.status)).toEqual(['PENDING', 'REQUIRES_REVIEW', 'REQUIRES_APPROVAL', 'PROCESSING', 'SETTLED']);
  expect(payment.source.balance.amount).toBe('30000.00');
  expect(payment.destination.balance.amount).toBe('50000.00');
}, 120_000);

test('a payee whose name resembles a sanctioned person waits for an officer, who clears it', async () => {
  const source = await account('Una Sender', '500.00');
  const destination = await account('Victor Kasparenko', '0.00');
  const created = await pay('match-1', source, destination, '25.00');
  expect(created.status).toBe('REQUIRES_REVIEW');
  const waiting = await data(PAYMENT, { id: created.id });
  expect(waiting.payment.complianceCheck.status).toBe('POTENTIAL_MATCH');
  expect(waiting.payment.complianceCheck.matches.map((m: { listEntryId: string }) => m.listEntryId)).toContain('10001');
  expect(waiting.payment.destination.balance.amount).toBe('0.00');

  await data('mutation($id: ID!) { resolveComplianceCheck(paymentId: $id, status: CLEAR, note: "different person") { status } }', { id: created.id });
  const payment = await paymentReaches(created.id, 'SETTLED');
  expect(payment.complianceCheck.resolution).toEqual({ status: 'CLEAR', officer: 'test-operator' });
  expect(payment.destination.balance.amount).toBe('25.00');
}, 120_000);

test('a payee on the sanctions list, misspelt and reordered, is blocked and no money moves', async () => {
  const source = await account('Vera Sender', '500.00');
  const destination = await account('Kasparenko, Victor Dragomirow', '0.00');
  const created = await pay('blocked-1', source, destination, '25.00');
  expect(created.status).toBe('BLOCKED');
  const { payment } = await data(PAYMENT, { id: created.id });
  expect(payment.complianceCheck.status).toBe('BLOCKED');
  expect(payment.source.balance.amount).toBe('500.00');
  expect(payment.destination.balance.amount).toBe('0.00');
}, 120_000);

test('the audit trail holds every decision and verifies', async () => {
  const { verifyAuditTrail } = await data('{ verifyAuditTrail { valid recordsChecked firstBrokenSequence } }');
  expect(verifyAuditTrail.valid).toBe(true);
  expect(verifyAuditTrail.recordsChecked).toBeGreaterThan(10);
  expect(verifyAuditTrail.firstBrokenSequence).toBeNull();
});
