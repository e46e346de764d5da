import { MongoClient } from 'mongodb';
import { databaseName } from '../runtime/mongo';
import { graphqlData, graphqlRequest } from './gateway-client';

/**
 * Demo data for `npm start`, created through the gateway like any client would. A marker
 * document in the `demo` database makes it idempotent: a second start seeds nothing.
 */
const SEED_ID = 'demo-v1';

interface DemoCustomer {
  name: string;
  email: string;
  country: string;
  tier: 'BASIC' | 'VERIFIED' | 'ENHANCED';
  accounts: { currency: string; deposit: string }[];
}

const CUSTOMERS: DemoCustomer[] = [
  { name: 'Alice Moreau', email: 'alice@example.com', country: 'US', tier: 'ENHANCED', accounts: [{ currency: 'USD', deposit: '25000.00' }, { currency: 'EUR', deposit: '5000.00' }] },
  { name: 'Bob Okafor', email: 'bob@example.com', country: 'GB', tier: 'VERIFIED', accounts: [{ currency: 'GBP', deposit: '8000.00' }, { currency: 'USD', deposit: '1500.00' }] },
  { name: 'Chen Wei', email: 'chen@example.com', country: 'SG', tier: 'VERIFIED', accounts: [{ currency: 'USD', deposit: '12000.00' }] },
  { name: 'Dana Schmidt', email: 'dana@example.com', country: 'DE', tier: 'BASIC', accounts: [{ currency: 'EUR', deposit: '900.00' }] },
];

export interface SeedResult {
  seeded: boolean;
  customerIds: string[];
  accountIds: string[];
}

export async function seedDemoData(gatewayUrl: string, mongoUri: string, token: string, log: (line: string) => void = console.log): Promise<SeedResult> {
  const client = new MongoClient(mongoUri);
  await client.connect();
  try {
    const markers = client.db(databaseName('demo')).collection<{ _id: string; customerIds: string[]; accountIds: string[]; at: Date }>('seed_runs');
    const existing = await markers.findOne({ _id: SEED_ID });
    if (existing) return { seeded: false, customerIds: existing.customerIds, accountIds: existing.accountIds };

    const customerIds: string[] = [];
    const accountIds: string[] = [];
    for (const customer of CUSTOMERS) {
      const { createCustomer } = await graphqlData<{ createCustomer: { id: string } }>(
        gatewayUrl,
        'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }',
        { input: { name: customer.name, email: customer.email, country: customer.country } },
        token,
      );
      customerIds.push(createCustomer.id);
      await graphqlRequest(gatewayUrl, 'mutation($input: SubmitKycInput!) { submitKyc(input: $input) { tier } }', { input: { customerId: createCustomer.id, tier: customer.tier } }, token);
      for (const account of customer.accounts) {
        const { openAccount } = await graphqlData<{ openAccount: { id: string } }>(
          gatewayUrl,
          'mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }',
          { input: { customerId: createCustomer.id, currency: account.currency } },
          token,
        );
        accountIds.push(openAccount.id);
        await graphqlData(
          gatewayUrl,
          'mutation($input: DepositFundsInput!) { depositFunds(input: $input) { id } }',
          { input: { accountId: openAccount.id, amount: { amount: account.deposit, currency: account.currency }, idempotencyKey: `seed-${openAccount.id}` } },
          token,
        );
      }
    }

    // A few payments so the graph has history: USD transfers between demo customers.
    const [aliceUsd, , , bobUsd, chenUsd] = accountIds;
    const payments = [
      { key: 'seed-pay-1', sourceAccountId: aliceUsd, destinationAccountId: chenUsd, amount: '125.50', reference: 'Dinner' },
      { key: 'seed-pay-2', sourceAccountId: chenUsd, destinationAccountId: bobUsd, amount: '40.00', reference: 'Books' },
      { key: 'seed-pay-3', sourceAccountId: aliceUsd, destinationAccountId: bobUsd, amount: '300.00', reference: 'Rent share' },
    ];
    for (const payment of payments) {
      const result = await graphqlRequest(
        gatewayUrl,
        'mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }',
        { input: { idempotencyKey: payment.key, sourceAccountId: payment.sourceAccountId, destinationAccountId: payment.destinationAccountId, amount: { amount: payment.amount, currency: 'USD' }, reference: payment.reference } },
        token,
      );
      if (result.errors?.length) log(`demo payment ${payment.key} not created: ${result.errors[0].message}`);
    }

    await markers.insertOne({ _id: SEED_ID, customerIds, accountIds, at: new Date() });
    return { seeded: true, customerIds, accountIds };
  } finally {
    await client.close();
  }
}
