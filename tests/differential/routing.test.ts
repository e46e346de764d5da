import { GraphQLError } from 'graphql';
import { describeGraph, federationLink, type FixtureSubgraph } from './support';

/**
 * Routing by the supergraph: these fixture subgraphs are named `accounts` and `payments`,
 * as our own stack's are, but run on ports the system picked. Each must be called at the
 * URL its `join__graph` gives, never at the stack's usual address for that name.
 */

const accountData = [
  { id: 'a1', owner: 'Ada', currency: 'EUR' },
  { id: 'a2', owner: 'Brian', currency: 'USD' },
];
const accountById = (id: string) => accountData.find((a) => a.id === id) ?? null;

const accounts: FixtureSubgraph = {
  name: 'accounts',
  typeDefs: `${federationLink()}
    type Query { account(id: ID!): Account accounts: [Account!]! }
    type Mutation { setNickname(id: ID!, nickname: String!): Account }
    type Account @key(fields: "id") { id: ID! owner: String! currency: String! nickname: String }`,
  resolvers: {
    Query: {
      account: (_: unknown, { id }) => accountById(id),
      accounts: () => accountData,
    },
    Mutation: {
      // The answer is the mutation's own input: the same whatever order the gateways send in.
      setNickname: (_: unknown, { id, nickname }) => {
        if (nickname.length > 12) throw new GraphQLError('nickname too long', { extensions: { code: 'BAD_USER_INPUT' } });
        const account = accountById(id);
        return account ? { ...account, nickname } : null;
      },
    },
    Account: { __resolveReference: (reference) => accountById(reference.id) },
  },
};

const paymentData = [
  { id: 'pay1', accountId: 'a1', amount: 1250, status: 'SETTLED' },
  { id: 'pay2', accountId: 'a1', amount: 300, status: 'PENDING' },
  { id: 'pay3', accountId: 'a2', amount: 99, status: 'FAILED' },
  { id: 'pay4', accountId: 'a1', amount: 42, status: 'SETTLED' },
];

const payments: FixtureSubgraph = {
  name: 'payments',
  typeDefs: `${federationLink()}
    type Query { payment(id: ID!): Payment }
    type Account @key(fields: "id") { id: ID! payments(first: Int = 2): [Payment!]! }
    type Payment { id: ID! amount: Int! status: String! account: Account! }`,
  resolvers: {
    Query: { payment: (_: unknown, { id }) => paymentData.find((p) => p.id === id) ?? null },
    Account: {
      __resolveReference: (reference) => ({ id: reference.id }),
      payments: (account, { first }) => paymentData.filter((p) => p.accountId === account.id).slice(0, first),
    },
    Payment: { account: (payment) => ({ id: payment.accountId }) },
  },
};

describeGraph('routing: subgraphs named accounts and payments', [accounts, payments], [
  {
    name: 'a query the accounts subgraph answers whole',
    query: 'query Account($id: ID!) { account(id: $id) { id owner currency } }',
    variables: [{ id: 'a1' }, { id: 'a2' }, { id: 'nope' }],
    shows: ([ada, brian, none]) => {
      expect(ada.json).toEqual({ data: { account: { id: 'a1', owner: 'Ada', currency: 'EUR' } } });
      expect(brian.json).toEqual({ data: { account: { id: 'a2', owner: 'Brian', currency: 'USD' } } });
      expect(none.json).toEqual({ data: { account: null } });
    },
  },
  {
    name: 'a query the payments subgraph answers whole',
    query: 'query Payment($id: ID!) { payment(id: $id) { id amount status account { id } } }',
    variables: [{ id: 'pay1' }, { id: 'pay3' }],
    shows: ([first]) => {
      expect(first.json).toEqual({ data: { payment: { id: 'pay1', amount: 1250, status: 'SETTLED', account: { id: 'a1' } } } });
    },
  },
  {
    name: 'accounts, then payments',
    query: 'query AccountPayments($id: ID!, $first: Int) { account(id: $id) { owner payments(first: $first) { id amount } } }',
    variables: [{ id: 'a1', first: 3 }, { id: 'a2' }, { id: 'a1' }],
    shows: ([three, brian, two]) => {
      expect(three.json).toEqual({ data: { account: { owner: 'Ada', payments: [{ id: 'pay1', amount: 1250 }, { id: 'pay2', amount: 300 }, { id: 'pay4', amount: 42 }] } } });
      expect(brian.json).toEqual({ data: { account: { owner: 'Brian', payments: [{ id: 'pay3', amount: 99 }] } } });
      expect(two.json).toMatchObject({ data: { account: { payments: [{}, {}] } } });
    },
  },
  {
    name: 'payments, then accounts',
    query: 'query PaymentOwner($id: ID!) { payment(id: $id) { status account { __typename owner currency } } }',
    variables: [{ id: 'pay3' }, { id: 'pay2' }],
    shows: ([failed]) => {
      expect(failed.json).toEqual({ data: { payment: { status: 'FAILED', account: { __typename: 'Account', owner: 'Brian', currency: 'USD' } } } });
    },
  },
  {
    name: 'every account with its payments',
    query: 'query Everyone($first: Int) { accounts { id payments(first: $first) { status } } }',
    variables: [{ first: 1 }, { first: 5 }],
    shows: ([one]) => {
      expect(one.json).toEqual({ data: { accounts: [{ id: 'a1', payments: [{ status: 'SETTLED' }] }, { id: 'a2', payments: [{ status: 'FAILED' }] }] } });
    },
  },
  {
    name: 'a mutation on accounts, with its error',
    query: 'mutation Nickname($id: ID!, $nickname: String!) { setNickname(id: $id, nickname: $nickname) { id nickname } }',
    variables: [{ id: 'a1', nickname: 'ada' }, { id: 'a2', nickname: 'bri' }, { id: 'a1', nickname: 'much-too-long-a-name' }],
    shows: ([ada, , refused]) => {
      expect(ada.json).toEqual({ data: { setNickname: { id: 'a1', nickname: 'ada' } } });
      expect(refused.json).toMatchObject({ data: { setNickname: null }, errors: [{ message: 'nickname too long', extensions: { code: 'BAD_USER_INPUT' } }] });
    },
  },
  {
    name: 'a mutation on accounts whose answer needs payments',
    query: 'mutation NicknameAndPayments($id: ID!, $nickname: String!) { setNickname(id: $id, nickname: $nickname) { nickname payments { amount } } }',
    variables: [{ id: 'a2', nickname: 'b' }, { id: 'a1', nickname: 'a' }],
    shows: ([brian]) => {
      expect(brian.json).toEqual({ data: { setNickname: { nickname: 'b', payments: [{ amount: 99 }] } } });
    },
  },
], (graph) => {
  test('/readyz is 200 and reports the subgraphs this supergraph names, where it routes them', async () => {
    const response = await fetch(graph().oursUrl.replace(/\/graphql$/, '/readyz'));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; supergraph: { loaded: boolean }; subgraphs: Record<string, string> };
    expect(body).toMatchObject({ status: 'ready', supergraph: { loaded: true, source: 'file' } });
    expect(body.subgraphs).toEqual({ accounts: 'ready', payments: 'ready' });
  });
});
