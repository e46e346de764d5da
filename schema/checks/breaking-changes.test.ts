import { buildSchema } from 'graphql';
import { findBreakingChanges } from './breaking-changes';

const BEFORE = `
  type Query {
    payment(id: ID!): Payment
    payments(status: Status, first: Int): [Payment!]!
    legacy: Legacy
  }
  type Payment { id: ID!  amount: Int!  reference: String  status: Status!  tags: [String!] }
  type Legacy { note: String }
  enum Status { PENDING SETTLED FAILED }
  input Filter { status: Status  accountId: ID }
  type Mutation { pay(input: PayInput!, note: String): Payment! }
  input PayInput { amount: Int!  reference: String }
  union Result = Payment | Legacy
`;

function changes(after: string) {
  return findBreakingChanges(buildSchema(BEFORE), buildSchema(after)).map(({ kind, coordinate, affects }) => ({ kind, coordinate, affects }));
}

/** BEFORE with one line replaced: each case below is one edit of the base schema. */
function edit(from: string, to: string): string {
  if (!BEFORE.includes(from)) throw new Error(`the base schema has no ${from}`);
  return BEFORE.replace(from, to);
}

describe('the breaking-change classifier', () => {
  test('an identical schema, or one with only additions, has no breaking change', () => {
    expect(changes(BEFORE)).toEqual([]);
    const additive = edit('type Legacy { note: String }', 'type Legacy { note: String  added: Int }\n type Extra { id: ID }')
      .replace('payment(id: ID!): Payment', 'payment(id: ID!, includeEvents: Boolean = false, optional: String): Payment')
      .replace('enum Status { PENDING SETTLED FAILED }', 'enum Status { PENDING SETTLED FAILED REFUNDED }')
      .replace('input PayInput { amount: Int!  reference: String }', 'input PayInput { amount: Int!  reference: String  memo: String  flag: Boolean! = false }');
    expect(changes(additive)).toEqual([]);
  });

  test('a removed type (a rename looks the same) affects every use of the type', () => {
    const after = edit('type Legacy { note: String }', 'type Legacy2 { note: String }').replace('legacy: Legacy', 'legacy: Legacy2').replace('Payment | Legacy', 'Payment | Legacy2');
    expect(changes(after)).toEqual(expect.arrayContaining([{ kind: 'TYPE_REMOVED', coordinate: 'Legacy', affects: ['Legacy'] }]));
  });

  test('a type that changes kind', () => {
    expect(changes(edit('type Legacy { note: String }', 'input Legacy { note: String }').replace('legacy: Legacy', 'legacy: String').replace('Payment | Legacy', 'Payment'))).toEqual(
      expect.arrayContaining([{ kind: 'TYPE_KIND_CHANGED', coordinate: 'Legacy', affects: ['Legacy'] }]),
    );
  });

  test('removed and renamed fields', () => {
    expect(changes(edit('reference: String  status', 'status'))).toEqual([{ kind: 'FIELD_REMOVED', coordinate: 'Payment.reference', affects: ['Payment.reference'] }]);
    expect(changes(edit('reference: String  status', 'ref: String  status'))).toEqual([{ kind: 'FIELD_REMOVED', coordinate: 'Payment.reference', affects: ['Payment.reference'] }]);
  });

  test('removed enum values affect every use of the enum', () => {
    expect(changes(edit('enum Status { PENDING SETTLED FAILED }', 'enum Status { PENDING SETTLED }'))).toEqual([{ kind: 'ENUM_VALUE_REMOVED', coordinate: 'Status.FAILED', affects: ['Status'] }]);
  });

  test('removed and renamed arguments', () => {
    expect(changes(edit('payments(status: Status, first: Int)', 'payments(status: Status)'))).toEqual([{ kind: 'ARG_REMOVED', coordinate: 'Query.payments(first:)', affects: ['Query.payments(first:)'] }]);
    expect(changes(edit('payments(status: Status, first: Int)', 'payments(status: Status, limit: Int)'))).toEqual([{ kind: 'ARG_REMOVED', coordinate: 'Query.payments(first:)', affects: ['Query.payments(first:)'] }]);
  });

  test('type changes of fields and arguments', () => {
    expect(changes(edit('amount: Int!', 'amount: String!'))).toEqual([{ kind: 'FIELD_TYPE_CHANGED', coordinate: 'Payment.amount', affects: ['Payment.amount'] }]);
    expect(changes(edit('tags: [String!]', 'tags: String'))).toEqual([{ kind: 'FIELD_TYPE_CHANGED', coordinate: 'Payment.tags', affects: ['Payment.tags'] }]);
    expect(changes(edit('payment(id: ID!)', 'payment(id: Int!)'))).toEqual([{ kind: 'ARG_TYPE_CHANGED', coordinate: 'Query.payment(id:)', affects: ['Query.payment'] }]);
  });

  test('new required arguments and input fields', () => {
    expect(changes(edit('payment(id: ID!)', 'payment(id: ID!, tenant: String!)'))).toEqual([{ kind: 'REQUIRED_ARG_ADDED', coordinate: 'Query.payment(tenant:)', affects: ['Query.payment'] }]);
    expect(changes(edit('input PayInput { amount: Int!  reference: String }', 'input PayInput { amount: Int!  reference: String  currency: String! }'))).toEqual([
      { kind: 'REQUIRED_INPUT_FIELD_ADDED', coordinate: 'PayInput.currency', affects: ['PayInput'] },
    ]);
  });

  test('nullability tightened on inputs is breaking, loosened is not', () => {
    expect(changes(edit('first: Int)', 'first: Int!)'))).toEqual([{ kind: 'ARG_TYPE_CHANGED', coordinate: 'Query.payments(first:)', affects: ['Query.payments'] }]);
    expect(changes(edit('reference: String }', 'reference: String! }'))).toEqual([{ kind: 'INPUT_FIELD_TYPE_CHANGED', coordinate: 'PayInput.reference', affects: ['PayInput'] }]);
    expect(changes(edit('pay(input: PayInput!, note: String)', 'pay(input: PayInput, note: String)'))).toEqual([]);
    expect(changes(edit('input PayInput { amount: Int!', 'input PayInput { amount: Int'))).toEqual([]);
  });

  test('nullability loosened on outputs is breaking, tightened is not', () => {
    expect(changes(edit('amount: Int!', 'amount: Int'))).toEqual([{ kind: 'FIELD_TYPE_CHANGED', coordinate: 'Payment.amount', affects: ['Payment.amount'] }]);
    expect(changes(edit('tags: [String!]', 'tags: [String]'))).toEqual([{ kind: 'FIELD_TYPE_CHANGED', coordinate: 'Payment.tags', affects: ['Payment.tags'] }]);
    expect(changes(edit('reference: String  status', 'reference: String!  status'))).toEqual([]);
    expect(changes(edit('tags: [String!]', 'tags: [String!]!'))).toEqual([]);
  });

  test('removed input fields and union members', () => {
    expect(changes(edit('input PayInput { amount: Int!  reference: String }', 'input PayInput { amount: Int! }'))).toEqual([{ kind: 'INPUT_FIELD_REMOVED', coordinate: 'PayInput.reference', affects: ['PayInput'] }]);
    expect(changes(edit('union Result = Payment | Legacy', 'union Result = Payment'))).toEqual([{ kind: 'UNION_MEMBER_REMOVED', coordinate: 'Result', affects: ['Result'] }]);
  });
});
