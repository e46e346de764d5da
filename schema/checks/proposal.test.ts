import { readFileSync } from 'node:fs';
import { SUBGRAPH_NAMES } from '../../runtime/config';
import { SUPERGRAPH_PATH } from '../composition';
import { subgraphSchemaPath } from '../subgraphs';
import { checkProposal, type CoordinateUse, type UsageLookup } from './proposal';

const repository = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, readFileSync(subgraphSchemaPath(name), 'utf8')]));
const supergraph = readFileSync(SUPERGRAPH_PATH, 'utf8');
const NOW = new Date('2026-11-25T12:00:00Z');
const DAY = 86_400_000;

/** Recorded usage held in memory: the verdict logic, apart from the registry that stores it. */
function usage(uses: CoordinateUse[]): UsageLookup {
  return { usesOf: async (coordinates, since) => uses.filter((u) => coordinates.includes(u.coordinate) && u.lastSeen >= since) };
}

function propose(subgraph: string, from: string, to: string, lookup?: UsageLookup) {
  if (!repository[subgraph].includes(from)) throw new Error(`${subgraph} SDL has no ${from}`);
  return checkProposal({
    currentSubgraphs: repository,
    currentSupergraphSdl: supergraph,
    subgraph,
    sdl: repository[subgraph].replace(from, to),
    usage: lookup,
    usageWindowDays: 30,
    now: NOW,
  });
}

const REQUESTED_TIER = '  "The tier asked for while status is PENDING."\n  requestedTier: KycTier\n';

describe('checking a proposed subgraph SDL', () => {
  test('a breaking change no operation used within the window passes with a warning', async () => {
    const old = { coordinate: 'KycProfile.requestedTier', client: 'web', operation: 'OldScreen', lastSeen: new Date(NOW.getTime() - 31 * DAY) };
    const outcome = await propose('compliance', REQUESTED_TIER, '', usage([old]));
    expect(outcome.ok).toBe(true);
    expect(outcome.failures).toEqual([]);
    expect(outcome.warnings).toEqual(['breaking: field KycProfile.requestedTier was removed; no operation used it in the last 30 days']);
  });

  test('one that an operation used fails, naming the operation and the client', async () => {
    const recent = { coordinate: 'KycProfile.requestedTier', client: 'ops-console', operation: 'KycQueue', lastSeen: new Date(NOW.getTime() - DAY) };
    const outcome = await propose('compliance', REQUESTED_TIER, '', usage([recent]));
    expect(outcome.ok).toBe(false);
    expect(outcome.failures).toEqual([`breaking: field KycProfile.requestedTier was removed; in use by KycQueue (client ops-console), last seen ${recent.lastSeen.toISOString()}`]);
  });

  test('without usage data a breaking change fails; a contract change fails whatever the usage', async () => {
    expect((await propose('compliance', REQUESTED_TIER, '')).ok).toBe(false);
    const contract = await propose('payments', '  failureReason: String\n', '  failureReason: String!\n', usage([]));
    expect(contract.failures).toEqual(['contract: contract field Payment.failureReason must be String, is String! (protected by schema/api-contract.graphql)']);
  });

  test('an SDL that does not compose fails with composition errors', async () => {
    const outcome = await propose('risk', 'type RiskAssessment', 'type Payment @key(fields: "id") { id: ID! status: Int }\ntype RiskAssessment', usage([]));
    expect(outcome.ok).toBe(false);
    expect(outcome.supergraphSdl).toBeUndefined();
    expect(outcome.failures[0]).toMatch(/^composition: /);
  });
});
