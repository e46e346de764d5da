import { buildSchema, parse } from 'graphql';
import { usageCoordinates } from './coordinates';

const schema = buildSchema(`
  type Query { payment(id: ID!): Payment  payments(filter: Filter, first: Int): [Payment!]! }
  type Payment { id: ID!  status: Status!  amount: Money!  reference: String }
  type Money { amount: String!  currency: String! }
  enum Status { PENDING SETTLED }
  input Filter { status: [Status!]  range: Range }
  input Range { from: String  to: String }
  type Mutation { pay(input: PayInput!): Payment! }
  input PayInput { amount: String!  memo: String }
`);

describe('usage coordinates of an operation', () => {
  test('fields, arguments and the types they touch, fragments included', () => {
    const document = parse(`
      query Dashboard($id: ID!) {
        payment(id: $id) { id ...Amount }
      }
      fragment Amount on Payment { amount { amount currency } }
    `);
    expect(usageCoordinates(schema, document)).toEqual(['ID', 'Money', 'Money.amount', 'Money.currency', 'Payment', 'Payment.amount', 'Payment.id', 'Query', 'Query.payment', 'Query.payment(id:)', 'String']);
  });

  test('an argument records the input and enum types it can carry; literals record their input fields and enum values', () => {
    const document = parse('{ payments(filter: { status: [SETTLED] }) { status } }');
    const used = usageCoordinates(schema, document);
    expect(used).toEqual(expect.arrayContaining(['Query.payments(filter:)', 'Filter', 'Range', 'Status', 'Filter.status', 'Status.SETTLED', 'Payment.status']));
    expect(used).not.toContain('Query.payments(first:)');
    expect(used).not.toContain('Payment.reference');
  });

  test('input types of variables are recorded although their values are not inspected', () => {
    const used = usageCoordinates(schema, parse('mutation Pay($input: PayInput!) { pay(input: $input) { id } }'));
    expect(used).toEqual(expect.arrayContaining(['Mutation.pay', 'Mutation.pay(input:)', 'PayInput']));
    expect(used).not.toContain('PayInput.memo');
  });

  test('introspection is not usage of the schema', () => {
    expect(usageCoordinates(schema, parse('{ __typename __schema { queryType { name } } __type(name: "Payment") { name } }'))).toEqual([]);
  });
});
