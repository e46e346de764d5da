import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { internalSigningSecret } from '../../runtime/config';
import { serviceIdentity } from '../../runtime/identity';
import { signRequest } from '../../runtime/signing';
import { startSubgraph, type StartedSubgraph } from '../../runtime/subgraph-main';
import { isolateDatabases } from '../../tests/support/database';
import { customerIdentity, operator, signedGraphql } from '../../tests/support/signed-client';
import { InProcessAlertBus } from './alerts';
import { createRiskSubgraph } from './index';

isolateDatabases();

const payments = serviceIdentity('payments');
const reviewer = { subject: 'risk-officer', scopes: ['risk:review'] };
const hourAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
let seq = 0;
const uid = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

/** Stands in for the payments subgraph: records continuePayment calls. */
let fakePayments: Server;
const continued: string[] = [];
let risk: StartedSubgraph;
const bus = new InProcessAlertBus();

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  fakePayments = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { variables } = JSON.parse(body);
      continued.push(variables.id);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { continuePayment: { id: variables.id } } }));
    });
  });
  await new Promise<void>((r) => fakePayments.listen(0, '127.0.0.1', r));
  process.env.PAYMENTS_URL = `http://127.0.0.1:${(fakePayments.address() as AddressInfo).port}/graphql`;
  risk = await startSubgraph(createRiskSubgraph({ alerts: bus }), { port: 0 });
});

afterAll(async () => {
  await risk?.stop();
  await new Promise((r) => fakePayments.close(r));
});

const ASSESS = `mutation($input: AssessPaymentInput!) { assessPayment(input: $input) { score level decision reasons assessedAt review { decision } } }`;

function assessInput(overrides: Record<string, unknown> = {}) {
  return {
    paymentId: `pay_${uid()}`,
    sourceAccountId: `acc_${uid()}`,
    customerId: 'cus_a',
    customerCountry: 'US',
    accountCreatedAt: hourAgo(24 * 400),
    amountMinor: '5025',
    currency: 'USD',
    usdEquivalentMinor: '5025',
    counterpartyCountry: 'US',
    crossBorder: false,
    ...overrides,
  };
}

async function assess(overrides: Record<string, unknown> = {}) {
  const input = assessInput(overrides);
  const response = await signedGraphql(risk.url, ASSESS, { input }, payments);
  expect(response.errors).toBeUndefined();
  return { input, assessment: response.data!.assessPayment };
}

describe('risk subgraph', () => {
  it('refuses unsigned requests with 401', async () => {
    const response = await fetch(risk.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(response.status).toBe(401);
  });

  it('assessPayment is internal only', async () => {
    const response = await signedGraphql(risk.url, ASSESS, { input: assessInput() }, operator);
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  describe('scenarios', () => {
    const velocityAccount = `acc_vel${uid()}`;
    it.each([
      ['a clean domestic payment is approved', {}, { score: 0, level: 'LOW', decision: 'APPROVE', reasons: [] }],
      [
        'a large amount trips review',
        { amountMinor: '12034567', usdEquivalentMinor: '12034567' },
        { score: 70, level: 'HIGH', decision: 'REVIEW', reasons: ['amount 120345.67 USD is at or above 100000.00 USD'] },
      ],
      [
        'a high-risk corridor declines',
        { crossBorder: true, counterpartyCountry: 'IR', amountMinor: '50025', usdEquivalentMinor: '50025' },
        { score: 85, level: 'CRITICAL', decision: 'DECLINE', reasons: ['cross-border payment US → IR', 'cross-border payment involving high-risk country IR'] },
      ],
      [
        'a new account sending just under the reporting threshold',
        { accountCreatedAt: hourAgo(2), amountMinor: '990050', usdEquivalentMinor: '990050' },
        { score: 40, level: 'MEDIUM', decision: 'APPROVE', reasons: ['source account is less than 24 hours old', 'amount 9900.50 USD is just under the 10000.00 USD threshold'] },
      ],
    ])('%s', async (_name, overrides, expected) => {
      const { assessment } = await assess(overrides);
      expect(assessment).toMatchObject(expected);
    });

    it('velocity trips review on the sixth payment from one account within the hour', async () => {
      const decisions: string[] = [];
      let last: any;
      for (let i = 0; i < 6; i++) {
        ({ assessment: last } = await assess({ sourceAccountId: velocityAccount, amountMinor: '400050', usdEquivalentMinor: '400050' }));
        decisions.push(last.decision);
      }
      expect(decisions).toEqual(['APPROVE', 'APPROVE', 'APPROVE', 'APPROVE', 'APPROVE', 'REVIEW']);
      expect(last).toMatchObject({
        score: 65,
        level: 'HIGH',
        reasons: ['6 payments from this account within 60 minutes (more than 5)', '24003.00 USD sent from this account within 60 minutes (more than 20000.00 USD)'],
      });
    });
  });

  it('is idempotent by payment id', async () => {
    const { input, assessment } = await assess({ amountMinor: '990050', usdEquivalentMinor: '990050' });
    const again = await signedGraphql(risk.url, ASSESS, { input: { ...input, amountMinor: '1', usdEquivalentMinor: '1' } }, payments);
    expect(again.data!.assessPayment).toEqual(assessment);
  });

  it('resolves Payment.riskAssessment for staff and for the owning customer only, batched', async () => {
    const a = await assess({ customerId: 'cus_owner' });
    const b = await assess({ customerId: 'cus_other', amountMinor: '12034567', usdEquivalentMinor: '12034567' });
    const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Payment { id riskAssessment { score decision payment { id } } } } }`;
    const reps = [{ __typename: 'Payment', id: a.input.paymentId }, { __typename: 'Payment', id: b.input.paymentId }, { __typename: 'Payment', id: 'pay_unknown' }];
    const staff = await signedGraphql(risk.url, query, { reps }, operator);
    expect(staff.data!._entities.map((e: any) => e.riskAssessment?.score ?? null)).toEqual([0, 70, null]);
    expect(staff.data!._entities[1].riskAssessment.payment.id).toBe(b.input.paymentId);
    const owner = await signedGraphql(risk.url, query, { reps }, customerIdentity('cus_owner'));
    expect(owner.data!._entities.map((e: any) => e.riskAssessment?.score ?? null)).toEqual([0, null, null]);
    const noScope = await signedGraphql(risk.url, query, { reps: reps.slice(0, 1) }, { subject: 'x', scopes: ['accounts:read'] });
    expect(noScope.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  describe('review queue', () => {
    const QUEUE = `query($first: Int, $after: String) { riskReviewQueue(first: $first, after: $after) { edges { cursor node { decision payment { id } } } pageInfo { hasNextPage endCursor } } }`;
    const REVIEW = `mutation($id: ID!, $d: RiskDecision!, $note: String) { reviewRiskAssessment(paymentId: $id, decision: $d, note: $note) { decision review { reviewer decision note reviewedAt } } }`;

    it('lists waiting payments oldest first, pages, and approves one', async () => {
      const waiting: string[] = [];
      for (let i = 0; i < 3; i++) waiting.push((await assess({ amountMinor: '12034567', usdEquivalentMinor: '12034567' })).input.paymentId);
      const ids: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = await signedGraphql(risk.url, QUEUE, { first: 2, after }, reviewer);
        expect(page.errors).toBeUndefined();
        ids.push(...page.data.riskReviewQueue.edges.map((e: any) => e.node.payment.id));
        if (!page.data.riskReviewQueue.pageInfo.hasNextPage) break;
        after = page.data.riskReviewQueue.pageInfo.endCursor;
      }
      const positions = waiting.map((id) => ids.indexOf(id));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect([...positions].sort((x, y) => x - y)).toEqual(positions);

      const reviewed = await signedGraphql(risk.url, REVIEW, { id: waiting[0], d: 'APPROVE', note: 'known customer' }, reviewer);
      expect(reviewed.errors).toBeUndefined();
      expect(reviewed.data!.reviewRiskAssessment).toMatchObject({ decision: 'APPROVE', review: { reviewer: 'risk-officer', decision: 'APPROVE', note: 'known customer' } });
      expect(continued).toContain(waiting[0]);

      const queueAfter: any = await signedGraphql(risk.url, QUEUE, { first: 100 }, reviewer);
      expect(queueAfter.data.riskReviewQueue.edges.map((e: any) => e.node.payment.id)).not.toContain(waiting[0]);

      const twice = await signedGraphql(risk.url, REVIEW, { id: waiting[0], d: 'DECLINE' }, reviewer);
      expect(twice.errors?.[0].extensions?.code).toBe('INVALID_STATE_TRANSITION');
    });

    it('refuses to review a payment that is not in REVIEW, unknown payments, and REVIEW as a decision', async () => {
      const { input } = await assess();
      expect((await signedGraphql(risk.url, REVIEW, { id: input.paymentId, d: 'DECLINE' }, reviewer)).errors?.[0].extensions?.code).toBe('INVALID_STATE_TRANSITION');
      expect((await signedGraphql(risk.url, REVIEW, { id: 'pay_nope', d: 'DECLINE' }, reviewer)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect((await signedGraphql(risk.url, REVIEW, { id: input.paymentId, d: 'REVIEW' }, reviewer)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('records the review even when payments is unreachable', async () => {
      const { input } = await assess({ amountMinor: '12034567', usdEquivalentMinor: '12034567' });
      const saved = process.env.PAYMENTS_URL;
      process.env.PAYMENTS_URL = 'http://127.0.0.1:1/graphql';
      try {
        const reviewed = await signedGraphql(risk.url, REVIEW, { id: input.paymentId, d: 'DECLINE' }, reviewer);
        expect(reviewed.data!.reviewRiskAssessment.decision).toBe('DECLINE');
      } finally {
        process.env.PAYMENTS_URL = saved;
      }
      const stored = await risk.mongo.database('risk').collection('risk_assessments').findOne({ paymentId: input.paymentId });
      expect(stored?.review?.decision).toBe('DECLINE');
    });

    it('enforces scopes and validates paging', async () => {
      expect((await signedGraphql(risk.url, QUEUE, {}, { subject: 'x', scopes: ['payments:read'] })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await signedGraphql(risk.url, QUEUE, {}, customerIdentity('cus_a'))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await signedGraphql(risk.url, REVIEW, { id: 'pay_x', d: 'APPROVE' }, { subject: 'x', scopes: ['payments:read'] })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await signedGraphql(risk.url, QUEUE, { first: 0 }, reviewer)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect((await signedGraphql(risk.url, QUEUE, { first: 101 }, reviewer)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect((await signedGraphql(risk.url, QUEUE, { after: 'garbage!' }, reviewer)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('riskAlertRaised subscription', () => {
    function subscribe(identity: typeof reviewer) {
      const client = createClient({
        url: risk.url.replace('http', 'ws'),
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: () => signRequest(internalSigningSecret(), { method: 'WS', path: '/graphql', body: '', identity }),
      });
      const iterator = client.iterate<{ riskAlertRaised: any }>({ query: 'subscription { riskAlertRaised { id level score reasons payment { id } } }' });
      return { client, iterator };
    }

    it('pushes HIGH and CRITICAL alerts to reviewers, not LOW ones', async () => {
      const { client, iterator } = subscribe(reviewer);
      try {
        const first = iterator.next();
        await waitFor(() => bus.subscriberCount === 1);
        const low = await assess();
        const critical = await assess({ crossBorder: true, counterpartyCountry: 'KP' });
        const alert = (await first).value!.data!.riskAlertRaised;
        expect(alert.payment.id).toBe(critical.input.paymentId);
        expect(alert.payment.id).not.toBe(low.input.paymentId);
        expect(alert).toMatchObject({ level: 'CRITICAL', score: 85, reasons: ['cross-border payment US → KP', 'cross-border payment involving high-risk country KP'] });
        expect(alert.id).toMatch(/^ral_/);
      } finally {
        await iterator.return?.();
        await client.dispose();
      }
    });

    it('refuses a subscriber without risk:review', async () => {
      const { client, iterator } = subscribe({ subject: 'nosy', scopes: ['payments:read'] });
      try {
        const result = await iterator.next();
        expect((result.value as any).errors[0].extensions.code).toBe('FORBIDDEN');
        expect(bus.subscriberCount).toBe(0);
      } finally {
        await client.dispose();
      }
    });
  });
});
