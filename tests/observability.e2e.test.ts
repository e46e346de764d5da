import { randomBytes } from 'node:crypto';
import { SUBGRAPH_NAMES } from '../runtime/config';
import { graphqlRequest } from '../scripts/gateway-client';
import { collectLogLines } from './support/log-lines';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver';
import { startTestStack, type TestStack } from './support/stack';

/**
 * Logs, metrics, traces and health across the real processes: the gateway and four subgraphs
 * export OTLP/HTTP to a receiver this test runs, and their JSON logs are read from stdout.
 */
let stack: TestStack;
let receiver: OtlpReceiver;
const logs = new Map<string, ReturnType<typeof collectLogLines>>();
const PROCESSES = ['gateway', ...SUBGRAPH_NAMES];
const base = (name: string) => (name === 'gateway' ? stack.gatewayUrl : stack.subgraphUrls[name as (typeof SUBGRAPH_NAMES)[number]]).replace(/\/graphql$/, '');

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startTestStack({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'info' }, { stdio: 'pipe' });
  for (const name of PROCESSES) {
    logs.set(name, collectLogLines(stack.processes.get(name)?.stdout));
    stack.processes.get(name)?.stderr?.resume();
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

async function fundedAccount(name: string, deposit: string): Promise<string> {
  const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', {
    i: { name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`, country: 'US' },
  });
  await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier: 'VERIFIED' } });
  const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } });
  if (deposit !== '0') {
    await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: openAccount.id, amount: { amount: deposit, currency: 'USD' }, idempotencyKey: `fund-${openAccount.id}` } });
  }
  return openAccount.id;
}

async function metrics(name: string): Promise<string> {
  const response = await fetch(`${base(name)}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of one sample line, e.g. `paygraph_payments{status="SETTLED"}`; NaN when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : Number.NaN;
}

async function waitForLog(name: string, matches: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const line = logs.get(name)!.lines.find(matches);
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no matching ${name} log line`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('one payment, followed through every process', () => {
  const requestId = `obs-${randomBytes(6).toString('hex')}`;
  let traceId: string;
  let paymentId: string;
  let trace: ReceivedSpan[];

  beforeAll(async () => {
    const source = await fundedAccount('Olga Tracewell', '500.00');
    const destination = await fundedAccount('Piet Spanner', '0');
    const created = await graphqlRequest<{ createPayment: { id: string; status: string } }>(
      stack.gatewayUrl,
      'mutation CreatePayment($i: CreatePaymentInput!) { createPayment(input: $i) { id status riskAssessment { level } complianceCheck { status } } }',
      { i: { idempotencyKey: requestId, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '42.00', currency: 'USD' } } },
      stack.operatorToken,
      { 'x-request-id': requestId },
    );
    expect(created.errors).toBeUndefined();
    paymentId = created.data!.createPayment.id;
    const spans = await receiver.waitFor((all) => {
      const root = all.find((s) => s.service === 'paygraph-gateway' && s.attributes['paygraph.request_id'] === requestId);
      if (!root) return false;
      const services = new Set(all.filter((s) => s.traceId === root.traceId).map((s) => s.service));
      return ['paygraph-gateway', 'paygraph-payments', 'paygraph-accounts', 'paygraph-risk', 'paygraph-compliance'].every((s) => services.has(s));
    });
    traceId = spans.find((s) => s.attributes['paygraph.request_id'] === requestId)!.traceId;
    trace = spans.filter((s) => s.traceId === traceId);
  });

  test('gateway and subgraph spans share one trace, each subgraph request a child of its caller', () => {
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const root = trace.find((s) => s.service === 'paygraph-gateway' && !s.parentSpanId);
    expect(root?.name).toBe('mutation CreatePayment');
    // Every span but the root has its parent in the same trace.
    for (const span of trace) if (span !== root) expect(byId.has(span.parentSpanId!)).toBe(true);
    // The payments subgraph's server span hangs under a gateway span (the gateway's fetch)…
    const paymentsServer = trace.find((s) => s.service === 'paygraph-payments' && s.kind === 2 && s.name === 'mutation CreatePayment');
    expect(paymentsServer).toBeDefined();
    expect(byId.get(paymentsServer!.parentSpanId!)?.service).toBe('paygraph-gateway');
    // …and the saga's internal calls from payments hang under payments' client spans.
    for (const service of ['paygraph-risk', 'paygraph-compliance'] as const) {
      const server = trace.find((s) => s.service === service && s.kind === 2);
      const parent = byId.get(server!.parentSpanId!);
      expect(parent).toMatchObject({ service: 'paygraph-payments', kind: 3 });
    }
  });

  test('log lines of the request carry its request id and trace id in the gateway and the subgraphs', async () => {
    const gatewayLine = await waitForLog('gateway', (l) => l.requestId === requestId && l.msg === 'graphql request');
    expect(gatewayLine).toMatchObject({ traceId, operation: 'CreatePayment', type: 'mutation', outcome: 'ok', service: 'gateway' });
    const paymentsLine = await waitForLog('payments', (l) => l.requestId === requestId && l.operation === 'CreatePayment');
    expect(paymentsLine.traceId).toBe(traceId);
    // The saga's internal calls carry the id on to the subgraphs they reach.
    expect((await waitForLog('risk', (l) => l.requestId === requestId)).traceId).toBe(traceId);
    // Personal data never reaches a log line.
    for (const { raw } of logs.values()) {
      expect(raw.join('\n')).not.toMatch(/Olga Tracewell|olga\.tracewell@example\.com|Piet Spanner/);
    }
  });

  test('metrics: operations, subgraph fetches, errors by code, database latency, payments by status', async () => {
    await stack.graphql('query Broken { payment(id: 42) { nope } }');
    const gateway = await metrics('gateway');
    expect(sample(gateway, 'paygraph_graphql_requests_total{operation="CreatePayment",type="mutation",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'paygraph_graphql_request_duration_seconds_count{operation="CreatePayment",type="mutation"}')).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'paygraph_subgraph_requests_total{subgraph="payments",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'paygraph_subgraph_request_duration_seconds_count{subgraph="accounts"}')).toBeGreaterThanOrEqual(1);
    expect(sample(gateway, 'paygraph_graphql_errors_total{code="BAD_USER_INPUT"}')).toBeGreaterThanOrEqual(1);
    expect(gateway).toContain('paygraph_gateway_client_subscriptions ');

    const payments = await metrics('payments');
    expect(payments).toMatch(/^paygraph_db_command_duration_seconds_count\{command="insert"\} [1-9]/m);
    expect(payments).toContain('paygraph_event_delivery_lag_seconds_count');
    // This payment settles (every check passes): its creation and every step are counted; the
    // in-flight gauge reports each in-flight status, from the database.
    const { payment } = await data<{ payment: { status: string } }>('query($id: ID!) { payment(id: $id) { status } }', { id: paymentId });
    expect(payment.status).toBe('SETTLED');
    expect(sample(await metrics('payments'), 'paygraph_payment_status_changes_total{status="PENDING"}')).toBeGreaterThanOrEqual(1);
    expect(sample(await metrics('payments'), 'paygraph_payment_status_changes_total{status="SETTLED"}')).toBeGreaterThanOrEqual(1);
    for (const status of ['PENDING', 'REQUIRES_REVIEW', 'REQUIRES_APPROVAL', 'PROCESSING']) expect(sample(payments, `paygraph_payments{status="${status}"}`)).toBeGreaterThanOrEqual(0);

    // Subgraphs count the fetches they serve, named after the client's operation.
    expect(sample(payments, 'paygraph_graphql_requests_total{operation="CreatePayment",type="mutation",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(await metrics('accounts')).toMatch(/^paygraph_graphql_requests_total\{operation="[A-Za-z]+",type="mutation",outcome="ok"\} [1-9]/m);
    expect(await metrics('risk')).toMatch(/^paygraph_graphql_requests_total\{operation="[A-Za-z]+",type="mutation",outcome="ok"\} [1-9]/m);
    expect(await metrics('compliance')).toMatch(/^paygraph_process_cpu_seconds_total /m);
  });
});

test('every process answers /healthz and /readyz, with what readiness covers', async () => {
  for (const name of PROCESSES) {
    const health = await fetch(`${base(name)}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${base(name)}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  }
  expect(await (await fetch(`${base('gateway')}/readyz`)).json()).toMatchObject({ supergraph: { loaded: true }, subgraphs: { accounts: 'ready', payments: 'ready', risk: 'ready', compliance: 'ready' } });
  expect(await (await fetch(`${base('payments')}/readyz`)).json()).toMatchObject({ checks: { database: 'ok', eventBus: 'ok' } });
  expect(await (await fetch(`${base('accounts')}/readyz`)).json()).toMatchObject({ checks: { database: 'ok' } });
});
