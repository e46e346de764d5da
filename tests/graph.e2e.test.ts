import { sumDbCommands } from '../runtime/metrics';
import { SUBGRAPH_NAMES, type SubgraphName } from '../runtime/config';
import { startTestStack, type TestStack } from './support/stack';

/**
 * End to end through the gateway over real HTTP: four subgraph processes, one gateway
 * process, the embedded database. One query crosses all four subgraphs and every value is
 * asserted; then the N+1 proof counts each subgraph's database commands.
 */
let stack: TestStack;

beforeAll(async () => {
  // Background work (the audit poller, the resume sweep) off, so command counts are the query's alone.
  // `$in` batches (MongoDB's way) so the N+1 proof counts one query per batch on FerretDB too.
  stack = await startTestStack({ COMPLIANCE_AUDIT_POLL_MS: '0', PAYGRAPH_RESUME_INTERVAL_MS: '0', MONGODB_ID_READS: 'in' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

async function createCustomer(name: string, country: string, tier = 'ENHANCED'): Promise<string> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`;
  const { createCustomer } = await data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', { i: { name, email, country } });
  await data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier } });
  return createCustomer.id;
}

async function openFundedAccount(customerId: string, currency: string, deposit: string): Promise<string> {
  const { openAccount } = await data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId, currency } });
  await data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', {
    i: { accountId: openAccount.id, amount: { amount: deposit, currency }, idempotencyKey: `deposit-${openAccount.id}` },
  });
  return openAccount.id;
}

async function pay(key: string, sourceAccountId: string, destinationAccountId: string, amount: string): Promise<{ id: string; status: string }> {
  const { createPayment } = await data('mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }', {
    i: { idempotencyKey: key, sourceAccountId, destinationAccountId, amount: { amount, currency: 'USD' }, reference: key },
  });
  return createPayment;
}

const CUSTOMER_ACROSS_ALL_SUBGRAPHS = `
  query CustomerOverview($id: ID!) {
    customer(id: $id) {
      name
      country
      kyc { tier status }
      accounts {
        id
        currency
        balance { amount currency minorUnits }
        payments(first: 10) {
          edges { node {
            status
            amount { amount currency }
            reference
            destination { id }
            riskAssessment { level decision }
            complianceCheck { status matches { name } }
          } }
        }
      }
    }
  }`;

describe('one query across all four subgraphs', () => {
  test('a customer with KYC tier, accounts, balances, payments, risk level and compliance status', async () => {
    const alice = await createCustomer('Alice Lindqvist', 'SE');
    const bob = await createCustomer('Bob Marsh', 'US', 'VERIFIED');
    const aliceUsd = await openFundedAccount(alice, 'USD', '1000.00');
    const bobUsd = await openFundedAccount(bob, 'USD', '10.00');
    const payment = await pay('e2e-overview-1', aliceUsd, bobUsd, '125.50');
    expect(payment.status).toBe('SETTLED');

    const { customer } = await data(CUSTOMER_ACROSS_ALL_SUBGRAPHS, { id: alice });
    expect(customer).toEqual({
      name: 'Alice Lindqvist',
      country: 'SE',
      kyc: { tier: 'ENHANCED', status: 'VERIFIED' },
      accounts: [
        {
          id: aliceUsd,
          currency: 'USD',
          balance: { amount: '874.50', currency: 'USD', minorUnits: '87450' },
          payments: {
            edges: [
              {
                node: {
                  status: 'SETTLED',
                  amount: { amount: '125.50', currency: 'USD' },
                  reference: 'e2e-overview-1',
                  destination: { id: bobUsd },
                  riskAssessment: { level: 'LOW', decision: 'APPROVE' },
                  complianceCheck: { status: 'CLEAR', matches: [] },
                },
              },
            ],
          },
        },
      ],
    });
    const bobView = await data('query($id: ID!) { account(id: $id) { balance { amount } customer { name kyc { tier } } } }', { id: bobUsd });
    expect(bobView.account).toEqual({ balance: { amount: '135.50' }, customer: { name: 'Bob Marsh', kyc: { tier: 'VERIFIED' } } });
  }, 120_000);
});

describe('N+1 proof: database commands per subgraph do not grow with the list', () => {
  const LIST = `
    query PaymentList($first: Int!) {
      payments(first: $first) {
        edges { node {
          id status amount { amount currency }
          source { id currency balance { amount } customer { name kyc { tier } } }
          destination { id customer { name } }
          riskAssessment { level }
          complianceCheck { status }
        } }
      }
    }`;

  async function commandCounts(): Promise<Record<SubgraphName, number>> {
    const counts = {} as Record<SubgraphName, number>;
    for (const name of SUBGRAPH_NAMES) {
      const text = await (await fetch(stack.subgraphUrls[name].replace(/\/graphql$/, '/metrics'))).text();
      counts[name] = sumDbCommands(text, `${stack.dbPrefix}${name}`);
    }
    return counts;
  }

  async function commandsForList(first: number): Promise<{ counts: Record<SubgraphName, number>; size: number }> {
    const before = await commandCounts();
    const result = await data(LIST, { first });
    const after = await commandCounts();
    const counts = {} as Record<SubgraphName, number>;
    for (const name of SUBGRAPH_NAMES) counts[name] = after[name] - before[name];
    return { counts, size: result.payments.edges.length };
  }

  test('50 and then 100 payments cost the same small number of queries per subgraph', async () => {
    // Ten payers and ten payees so the list has many distinct accounts and customers.
    const payers: string[] = [];
    const payees: string[] = [];
    for (let i = 0; i < 10; i++) {
      payers.push(await openFundedAccount(await createCustomer(`Payer Number${i}`, 'US'), 'USD', '5000.00'));
      payees.push(await openFundedAccount(await createCustomer(`Payee Number${i}`, 'GB'), 'USD', '1.00'));
    }
    const makePayments = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await pay(`nplus1-${i}`, payers[i % 10], payees[(i * 3) % 10], `${1 + (i % 7)}.${10 + (i % 80)}`);
    };

    await makePayments(0, 50);
    const fifty = await commandsForList(100);
    await makePayments(50, 100);
    const hundred = await commandsForList(100);

    console.log('database commands per subgraph for the payment list', { fifty: fifty.counts, hundred: hundred.counts });
    expect(fifty.size).toBeGreaterThanOrEqual(50);
    expect(hundred.size).toBe(100);
    for (const name of SUBGRAPH_NAMES) {
      expect(fifty.counts[name]).toBeGreaterThan(0);
      expect(fifty.counts[name]).toBeLessThanOrEqual(6);
      expect(hundred.counts[name]).toBe(fifty.counts[name]);
    }
  }, 300_000);
});
