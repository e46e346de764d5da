import { isolateDatabases } from '../../tests/support/database';
import { customerIdentity, errorCodes, operator, signedGraphql } from '../../tests/support/signed-client';
import { serviceIdentity, type Identity } from '../../runtime/identity';
import { startSubgraph, type StartedSubgraph } from '../../runtime/subgraph-main';
import { accountsSubgraph } from './index';
import { AccountsRepository } from './repository';

isolateDatabases();

let subgraph: StartedSubgraph;
let repository: AccountsRepository;
const payments = serviceIdentity('payments');

beforeAll(async () => {
  subgraph = await startSubgraph(accountsSubgraph, { port: 0 });
  repository = new AccountsRepository(subgraph.mongo.database('accounts'));
});
afterAll(async () => {
  await subgraph?.stop();
});

const call = (query: string, variables: Record<string, unknown>, identity: Identity = operator) =>
  signedGraphql(subgraph.url, query, variables, identity);

const CREATE_CUSTOMER = `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id name email country createdAt accounts { id } } }`;
const OPEN_ACCOUNT = `mutation($input: OpenAccountInput!) { openAccount(input: $input) { id currency status customer { id } balance { amount currency minorUnits } } }`;
const DEPOSIT = `mutation($input: DepositFundsInput!) { depositFunds(input: $input) { id balance { amount currency minorUnits } } }`;
const ACCOUNT = `query($id: ID!) { account(id: $id) { id currency status customer { id name } balance { amount minorUnits }
  ledger(first: 10) { edges { cursor node { id direction amount { amount } balanceAfter { amount } sequence paymentId createdAt } } pageInfo { hasNextPage endCursor } } } }`;

async function createCustomer(name = 'Ada Lovelace', email = 'Ada@Example.com', country = 'GB'): Promise<string> {
  const response = await call(CREATE_CUSTOMER, { input: { name, email, country } });
  expect(response.errors).toBeUndefined();
  return response.data!.createCustomer.id;
}

async function openAccount(customerId: string, currency = 'USD', identity: Identity = operator): Promise<string> {
  const response = await call(OPEN_ACCOUNT, { input: { customerId, currency } }, identity);
  expect(response.errors).toBeUndefined();
  return response.data!.openAccount.id;
}

describe('customers and accounts', () => {
  it('creates a customer with validated, normalised details', async () => {
    const response = await call(CREATE_CUSTOMER, { input: { name: '  Ada Lovelace ', email: ' Ada@Example.COM', country: 'gb' } });
    expect(response.errors).toBeUndefined();
    expect(response.data!.createCustomer).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', country: 'GB', accounts: [] });
    expect(response.data!.createCustomer.id).toMatch(/^cus_[0-9a-f]{24}$/);
  });

  it.each([
    [{ name: '', email: 'a@b.co', country: 'US' }, 'name'],
    [{ name: 'x'.repeat(201), email: 'a@b.co', country: 'US' }, 'name'],
    [{ name: 'Bad\u0007Name', email: 'a@b.co', country: 'US' }, 'name'],
    [{ name: 'Ok', email: 'not-an-email', country: 'US' }, 'email'],
    [{ name: 'Ok', email: `${'a'.repeat(60)}@${'b'.repeat(200)}.com`, country: 'US' }, 'email'],
    [{ name: 'Ok', email: 'a@b.co', country: 'UK' }, 'country'],
  ])('refuses %j (%s)', async (input, field) => {
    const response = await call(CREATE_CUSTOMER, { input });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0].extensions!.field).toBe(field);
  });

  it('refuses a customer token creating customers, and a token without accounts:write', async () => {
    const customerId = await createCustomer();
    expect(errorCodes(await call(CREATE_CUSTOMER, { input: { name: 'Eve', email: 'eve@example.com', country: 'US' } }, customerIdentity(customerId)))).toEqual([
      'FORBIDDEN',
    ]);
    const reader: Identity = { subject: 'reader', scopes: ['accounts:read'] };
    expect(errorCodes(await call(CREATE_CUSTOMER, { input: { name: 'Eve', email: 'eve@example.com', country: 'US' } }, reader))).toEqual(['FORBIDDEN']);
  });

  it('opens accounts; a customer only for itself; validates the currency', async () => {
    const alice = await createCustomer('Alice', 'alice@example.com', 'US');
    const bob = await createCustomer('Bob', 'bob@example.com', 'US');
    const opened = await call(OPEN_ACCOUNT, { input: { customerId: alice, currency: 'JPY' } });
    expect(opened.data!.openAccount).toMatchObject({ currency: 'JPY', status: 'ACTIVE', customer: { id: alice }, balance: { amount: '0', currency: 'JPY', minorUnits: '0' } });
    await openAccount(alice, 'USD', customerIdentity(alice));
    expect(errorCodes(await call(OPEN_ACCOUNT, { input: { customerId: bob, currency: 'USD' } }, customerIdentity(alice)))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await call(OPEN_ACCOUNT, { input: { customerId: alice, currency: 'XYZ' } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await call(OPEN_ACCOUNT, { input: { customerId: 'cus_000000000000000000000000', currency: 'USD' } }))).toEqual(['NOT_FOUND']);
    const customer = await call(`query($id: ID!) { customer(id: $id) { accounts { currency } } }`, { id: alice });
    expect(customer.data!.customer.accounts.map((account: { currency: string }) => account.currency)).toEqual(['JPY', 'USD']);
  });

  it('a customer token sees only its own customer and accounts', async () => {
    const alice = await createCustomer('Alice', 'alice2@example.com', 'US');
    const bob = await createCustomer('Bob', 'bob2@example.com', 'US');
    const bobAccount = await openAccount(bob);
    const aliceAccount = await openAccount(alice);
    const asAlice = customerIdentity(alice);
    expect((await call(`query($id: ID!) { customer(id: $id) { id } }`, { id: bob }, asAlice)).data).toEqual({ customer: null });
    expect((await call(`query($id: ID!) { account(id: $id) { id } }`, { id: bobAccount }, asAlice)).data).toEqual({ account: null });
    expect((await call(`query($id: ID!) { account(id: $id) { id customer { id } } }`, { id: aliceAccount }, asAlice)).data).toEqual({
      account: { id: aliceAccount, customer: { id: alice } },
    });
    // Entity references from other subgraphs: another customer's data resolves to null.
    const entities = await call(
      `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Account { id } ... on Customer { id } } }`,
      {
        representations: [
          { __typename: 'Account', id: aliceAccount },
          { __typename: 'Account', id: bobAccount },
          { __typename: 'Customer', id: bob },
          { __typename: 'Customer', id: alice },
          { __typename: 'Account', id: { $gt: '' } },
        ],
      },
      asAlice,
    );
    expect(entities.data!._entities).toEqual([{ id: aliceAccount }, null, null, { id: alice }, null]);
  });

  it('refuses unsigned requests with 401', async () => {
    const response = await fetch(subgraph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ customer(id: "cus_000000000000000000000000") { id } }' }),
    });
    expect(response.status).toBe(401);
  });

  it('keeps internal operations for our own services', async () => {
    const customerId = await createCustomer('Carol', 'carol@example.com', 'FR');
    const accountId = await openAccount(customerId, 'EUR');
    const facts = `query($ids: [ID!]!) { accountFacts(ids: $ids) { id customerId customerName customerCountry currency status balanceMinor } }`;
    expect(errorCodes(await call(facts, { ids: [accountId] }))).toEqual(['FORBIDDEN']);
    const response = await call(facts, { ids: ['acc_000000000000000000000000', accountId, 'garbage'] }, payments);
    expect(response.data!.accountFacts).toEqual([
      null,
      { id: accountId, customerId, customerName: 'Carol', customerCountry: 'FR', currency: 'EUR', status: 'ACTIVE', balanceMinor: '0' },
      null,
    ]);
  });
});

describe('deposits', () => {
  it('deposits from FUNDING, idempotently per caller and key', async () => {
    const customerId = await createCustomer('Dan', 'dan@example.com', 'US');
    const accountId = await openAccount(customerId);
    const input = { accountId, amount: { amount: '125.50', currency: 'USD' }, idempotencyKey: 'dep-1' };
    const first = await call(DEPOSIT, { input });
    expect(first.errors).toBeUndefined();
    expect(first.data!.depositFunds.balance).toEqual({ amount: '125.50', currency: 'USD', minorUnits: '12550' });
    const again = await call(DEPOSIT, { input });
    expect(again.data!.depositFunds.balance.minorUnits).toBe('12550');
    const reused = await call(DEPOSIT, { input: { ...input, amount: { amount: '1.00', currency: 'USD' } } });
    expect(errorCodes(reused)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    // The key is scoped to the caller: another operator's dep-1 is a new deposit.
    const other = await call(DEPOSIT, { input }, { ...operator, subject: 'operator-2' });
    expect(other.data!.depositFunds.balance.minorUnits).toBe('25100');

    const account = await call(ACCOUNT, { id: accountId });
    const edges = account.data!.account.ledger.edges;
    expect(edges.map((edge: { node: { sequence: number; balanceAfter: { amount: string } } }) => [edge.node.sequence, edge.node.balanceAfter.amount])).toEqual([
      [2, '251.00'],
      [1, '125.50'],
    ]);
    expect(edges[0].node.direction).toBe('CREDIT');
    const entries = await repository.entriesOf(accountId);
    expect(entries).toHaveLength(2);
    const funding = await repository.entriesOf('acc_sys_funding_usd');
    expect(funding.map((entry) => entry.balanceAfterMinor)).toEqual([-12550n, -25100n]);
  });

  it.each([
    [{ amount: '10.001', currency: 'USD' }, 'BAD_USER_INPUT'],
    [{ amount: '-5', currency: 'USD' }, 'BAD_USER_INPUT'],
    [{ amount: '0', currency: 'USD' }, 'BAD_USER_INPUT'],
    [{ amount: '10', currency: 'EUR' }, 'BAD_USER_INPUT'],
  ])('refuses %j', async (amount, code) => {
    const customerId = await createCustomer('Erin', `erin${Math.random()}@example.com`, 'US');
    const accountId = await openAccount(customerId);
    expect(errorCodes(await call(DEPOSIT, { input: { accountId, amount, idempotencyKey: `k-${Math.random()}` } }))).toEqual([code]);
    expect(await repository.entriesOf(accountId)).toEqual([]);
  });

  it('customers cannot mint money', async () => {
    const customerId = await createCustomer('Fay', 'fay@example.com', 'US');
    const accountId = await openAccount(customerId);
    const response = await call(DEPOSIT, { input: { accountId, amount: { amount: '10', currency: 'USD' }, idempotencyKey: 'mint' } }, customerIdentity(customerId));
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });

  it('pages the ledger newest first with a validated cursor', async () => {
    const customerId = await createCustomer('Gus', 'gus@example.com', 'JP');
    const accountId = await openAccount(customerId, 'JPY');
    for (let i = 1; i <= 5; i++) {
      await call(DEPOSIT, { input: { accountId, amount: { amount: String(i * 100), currency: 'JPY' }, idempotencyKey: `page-${i}` } });
    }
    const page = `query($id: ID!, $first: Int, $after: String) { account(id: $id) { balance { amount } ledger(first: $first, after: $after) {
      edges { cursor node { sequence amount { amount } } } pageInfo { hasNextPage endCursor } } } }`;
    const one = await call(page, { id: accountId, first: 2 });
    expect(one.data!.account.balance.amount).toBe('1500');
    expect(one.data!.account.ledger.edges.map((edge: { node: { sequence: number } }) => edge.node.sequence)).toEqual([5, 4]);
    expect(one.data!.account.ledger.pageInfo).toEqual({ hasNextPage: true, endCursor: '4' });
    const two = await call(page, { id: accountId, first: 3, after: '4' });
    expect(two.data!.account.ledger.edges.map((edge: { node: { sequence: number } }) => edge.node.sequence)).toEqual([3, 2, 1]);
    expect(two.data!.account.ledger.pageInfo).toEqual({ hasNextPage: false, endCursor: '1' });
    expect(errorCodes(await call(page, { id: accountId, first: 0 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await call(page, { id: accountId, first: 101 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await call(page, { id: accountId, first: 2, after: 'abc' }))).toEqual(['BAD_USER_INPUT']);
  });
});
