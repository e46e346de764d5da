import { parse } from 'graphql';
import { isMutation, unavailableErrors } from './unavailable';

test('a root fetch gets one SUBGRAPH_UNAVAILABLE error per top-level field, by response key', () => {
  const document = parse('query Q__payments__0 { payment(id: "p1") { id status } other: payments { edges { cursor } } __typename }');
  const errors = unavailableErrors('payments', 'unreachable', document, {});
  expect(errors.map((e) => [e.path, e.extensions.code, e.extensions.reason])).toEqual([
    [['payment'], 'SUBGRAPH_UNAVAILABLE', 'unreachable'],
    [['other'], 'SUBGRAPH_UNAVAILABLE', 'unreachable'],
  ]);
  expect(errors[0].message).toContain('"payments"');
});

test('an entity fetch gets an error per representation and per field it would have filled in', () => {
  const document = parse('query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Payment { __typename riskAssessment { level } r: riskAssessment { score } } } }');
  const errors = unavailableErrors('risk', 'circuit-open', document, { representations: [{ __typename: 'Payment', id: 'a' }, { __typename: 'Payment', id: 'b' }] });
  expect(errors.map((e) => e.path)).toEqual([
    ['_entities', 0, 'riskAssessment'],
    ['_entities', 0, 'r'],
    ['_entities', 1, 'riskAssessment'],
    ['_entities', 1, 'r'],
  ]);
});

test('mutations are told apart from reads', () => {
  expect(isMutation(parse('mutation { createPayment(input: {}) { id } }'))).toBe(true);
  expect(isMutation(parse('query { payment(id: "x") { id } }'))).toBe(false);
  expect(isMutation(parse('{ payment(id: "x") { id } }'))).toBe(false);
});
