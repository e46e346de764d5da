import { databaseName } from '../../runtime/mongo';
import { serviceIdentity } from '../../runtime/identity';
import { startSubgraph, type StartedSubgraph } from '../../runtime/subgraph-main';
import { commandsOf } from '../../tests/support/commands';
import { isolateDatabases } from '../../tests/support/database';
import { signedGraphql } from '../../tests/support/signed-client';
import { createRiskSubgraph } from './index';

isolateDatabases();

/**
 * Database commands per call on a warm process: what a settled payment costs risk.
 * Exact counts, because they are a deterministic property of the code, not a timing.
 */
let risk: StartedSubgraph;
const payments = serviceIdentity('payments');
let seq = 0;
const uid = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

beforeAll(async () => {
  risk = await startSubgraph(createRiskSubgraph(), { port: 0 });
});
afterAll(async () => {
  await risk?.stop();
});

const ASSESS = `mutation($input: AssessPaymentInput!) { assessPayment(input: $input) { score level decision } }`;

function assessInput(overrides: Record<string, unknown> = {}) {
  return {
    paymentId: `pay_${uid()}`,
    sourceAccountId: `acc_${uid()}`,
    customerId: 'cus_count',
    customerCountry: 'US',
    accountCreatedAt: new Date(Date.now() - 400 * 24 * 3_600_000).toISOString(),
    amountMinor: '5025',
    currency: 'USD',
    usdEquivalentMinor: '5025',
    counterpartyCountry: 'US',
    crossBorder: false,
    ...overrides,
  };
}

async function assess(input: ReturnType<typeof assessInput>) {
  const response = await signedGraphql(risk.url, ASSESS, { input }, payments);
  expect(response.errors).toBeUndefined();
  return response.data!.assessPayment;
}

const commandsOfRisk = (work: () => Promise<unknown>) => commandsOf(risk.mongo.client, databaseName('risk'), work);

describe('database commands per call', () => {
  it('assessPayment, first ask: the velocity window and one insert', async () => {
    const account = `acc_${uid()}`;
    await assess(assessInput({ sourceAccountId: account }));
    expect(await commandsOfRisk(() => assess(assessInput({ sourceAccountId: account })))).toEqual(['find risk_assessments', 'insert risk_assessments']);
  });

  it('assessPayment asked again (a resumed saga): the velocity window holds the stored assessment', async () => {
    const input = assessInput();
    const first = await assess(input);
    let again: unknown;
    expect(await commandsOfRisk(async () => (again = await assess(input)))).toEqual(['find risk_assessments']);
    expect(again).toEqual(first);
  });

  it('assessPayment that raises an alert: one insert more, of the alert', async () => {
    const input = assessInput({ crossBorder: true, counterpartyCountry: 'KP' });
    expect(await commandsOfRisk(() => assess(input))).toEqual(['find risk_assessments', 'insert risk_assessments', 'insert risk_alerts']);
  });
});
