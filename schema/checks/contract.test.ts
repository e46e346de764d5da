import { readFileSync } from 'node:fs';
import { SUPERGRAPH_PATH } from '../composition';
import { subgraphSchemaPath } from '../subgraphs';
import { contractViolations } from './contract';
import { apiSchemaOf, composeSubgraphs } from './proposal';
import { SUBGRAPH_NAMES } from '../../runtime/config';

const repository = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, readFileSync(subgraphSchemaPath(name), 'utf8')]));

/** The API schema with one subgraph's SDL edited. */
function apiWith(subgraph: string, from: string, to: string) {
  if (!repository[subgraph].includes(from)) throw new Error(`${subgraph} SDL has no ${from}`);
  const composed = composeSubgraphs({ ...repository, [subgraph]: repository[subgraph].replace(from, to) });
  if (!composed.supergraphSdl) throw new Error(composed.errors.join('\n'));
  return apiSchemaOf(composed.supergraphSdl);
}

describe('the protected API contract (schema/api-contract.graphql)', () => {
  test('the committed supergraph keeps it', () => {
    expect(contractViolations(apiSchemaOf(readFileSync(SUPERGRAPH_PATH, 'utf8')))).toEqual([]);
  });

  test('a removed contract field, even a nullable one, violates it', () => {
    expect(contractViolations(apiWith('payments', '  reference: String\n', '')).map((v) => v.coordinate)).toEqual(['Payment.reference']);
  });

  test('a change a consumer could not notice is still a change to the contract', () => {
    expect(contractViolations(apiWith('payments', '  failureReason: String\n', '  failureReason: String!\n')).map((v) => v.message)).toEqual([
      'contract field Payment.failureReason must be String, is String!',
    ]);
  });

  test('contract fields may gain optional arguments, not required ones', () => {
    const optional = apiWith('payments', 'payment(id: ID!): Payment', 'payment(id: ID!, includeRefunds: Boolean): Payment');
    expect(contractViolations(optional)).toEqual([]);
    const required = apiWith('payments', 'payment(id: ID!): Payment', 'payment(id: ID!, tenant: String!): Payment');
    expect(contractViolations(required).map((v) => v.coordinate)).toEqual(['Query.payment(tenant:)']);
  });
});
