import { readFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_PATH } from './composition';

describe('the committed supergraph', () => {
  const outcome = composeSupergraph();

  test('composes without errors or unacknowledged hints', () => {
    expect(outcome.errors).toEqual([]);
    expect(outcome.unacknowledgedHints).toEqual([]);
  });

  test('is what composing the subgraphs produces now (not stale)', () => {
    expect(readFileSync(SUPERGRAPH_PATH, 'utf8')).toBe(outcome.supergraphSdl);
  });

  test('a proposal that does not compose is reported', () => {
    const broken = composeSupergraph({ risk: 'type Payment @key(fields: "id") { id: ID! status: Int }' });
    expect(broken.supergraphSdl).toBeUndefined();
    expect(broken.errors.length).toBeGreaterThan(0);
  });
});
