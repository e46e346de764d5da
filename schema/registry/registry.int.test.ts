import { readFileSync } from 'node:fs';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../runtime/config';
import { connectMongo, readMongoConfig, type MongoHandle } from '../../runtime/mongo';
import { isolateDatabases } from '../../tests/support/database';
import { subgraphSchemaPath } from '../subgraphs';
import { publishSubgraph } from './publish';
import { RegistryStore } from './store';
import { recordUses, registryUsage } from './usage-store';

isolateDatabases();
let mongo: MongoHandle;
let store: RegistryStore;
const sdlOf = (name: SubgraphName) => readFileSync(subgraphSchemaPath(name), 'utf8');

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
  store = new RegistryStore(mongo.database('gateway'));
});
afterAll(async () => {
  await mongo?.close();
});

describe('the schema registry on the real database', () => {
  test('four subgraphs publishing at once on an empty registry make exactly one version, the committed supergraph', async () => {
    const outcomes = await Promise.all(SUBGRAPH_NAMES.map((subgraph) => publishSubgraph(store, { subgraph, sdl: sdlOf(subgraph), usageWindowDays: 30 })));
    expect(outcomes.filter((o) => o.status === 'published')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'unchanged')).toHaveLength(3);
    expect(await store.currentSupergraphVersion()).toBe(1);
    expect((await store.currentSupergraph())?.supergraphSdl).toBe(readFileSync(`${__dirname}/../supergraph.graphql`, 'utf8'));
  });

  test('concurrent changes to two subgraphs both land, one version each, neither lost', async () => {
    const compliance = sdlOf('compliance').replace('type KycProfile {', 'type KycProfile {\n  reviewedBy: String');
    const risk = sdlOf('risk').replace('type RiskAssessment {', 'type RiskAssessment {\n  model: String');
    const outcomes = await Promise.all([
      publishSubgraph(store, { subgraph: 'compliance', sdl: compliance, version: 'c-2', usageWindowDays: 30 }),
      publishSubgraph(store, { subgraph: 'risk', sdl: risk, version: 'r-2', usageWindowDays: 30 }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['published', 'published']);
    const current = await store.currentSupergraph();
    expect(current?._id).toBe(3);
    expect(current?.subgraphs.compliance.version).toBe('c-2');
    expect(current?.subgraphs.risk.version).toBe('r-2');
    expect(current?.supergraphSdl).toContain('reviewedBy: String');
    expect(current?.supergraphSdl).toContain('model: String');
  });

  test('a publish that fails a check is stored as a rejection and the current version stays', async () => {
    await recordUses(store, [{ coordinate: 'RiskAssessment.model', client: 'risk-desk', operation: 'ModelAudit', lastSeen: new Date() }]);
    const outcome = await publishSubgraph(store, { subgraph: 'risk', sdl: sdlOf('risk'), version: 'r-3', usageWindowDays: 30 });
    expect(outcome).toMatchObject({ status: 'rejected', version: 3, rejection: 1 });
    expect(outcome.status === 'rejected' && outcome.reasons).toEqual([expect.stringMatching(/RiskAssessment\.model was removed; in use by ModelAudit \(client risk-desk\)/)]);
    expect(await store.currentSupergraphVersion()).toBe(3);
    expect(await store.recentRejections(5)).toEqual([expect.objectContaining({ _id: 1, subgraph: 'risk', version: 'r-3', currentVersion: 3 })]);
  });

  test('usage keeps the latest sighting per client and operation, names with dots and tildes included', async () => {
    const early = new Date(Date.now() - 60_000);
    const late = new Date();
    await recordUses(store, [{ coordinate: 'Payment.amount', client: 'web.app~v2', operation: 'Pay', lastSeen: late }]);
    await recordUses(store, [{ coordinate: 'Payment.amount', client: 'web.app~v2', operation: 'Pay', lastSeen: early }]);
    const uses = await registryUsage(store).usesOf(['Payment.amount', 'Payment.status'], new Date(Date.now() - 3_600_000));
    expect(uses).toEqual([{ coordinate: 'Payment.amount', client: 'web.app~v2', operation: 'Pay', lastSeen: late }]);
  });
});
