import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUBGRAPH_NAMES } from '../runtime/config';
import { graphqlRequest } from '../scripts/gateway-client';
import { composeSubgraphs } from '../schema/checks/proposal';
import { SUPERGRAPH_PATH } from '../schema/composition';
import { subgraphSchemaPath } from '../schema/subgraphs';
import { connectMongo, readMongoConfig } from '../runtime/mongo';
import { publishSubgraph } from '../schema/registry/publish';
import { RegistryStore } from '../schema/registry/store';
import { isolateDatabases } from '../tests/support/database';
import { eventually } from '../tests/subscriptions-support';
import { readGatewayConfig } from './config';
import { startGateway, type RunningGateway } from './server';

isolateDatabases();

/**
 * Static file mode: the gateway serves SUPERGRAPH_PATH and reloads it when the file changes,
 * refusing (and reporting) a file that does not load. No subgraph is needed: what changes is
 * the schema the gateway validates and introspects against.
 */
const dir = mkdtempSync(join(tmpdir(), 'paygraph-supergraph-'));
const supergraphPath = join(dir, 'supergraph.graphql');
let gateway: RunningGateway;
let registryGateway: RunningGateway | undefined;

beforeAll(async () => {
  copyFileSync(SUPERGRAPH_PATH, supergraphPath);
  const config = readGatewayConfig();
  gateway = await startGateway({ ...config, port: 0, supergraphPath, schema: { source: 'file', pollMs: 50, usageReporting: false, usageFlushMs: 1000 } });
});

afterAll(async () => {
  await gateway?.stop();
  await registryGateway?.stop();
});

async function kycProfileFields(url = gateway.url): Promise<string[]> {
  const result = await graphqlRequest<{ __type: { fields: { name: string }[] } }>(url, '{ __type(name: "KycProfile") { fields { name } } }');
  return result.data?.__type.fields.map((f) => f.name) ?? [];
}

async function supergraphStatus(url = gateway.url): Promise<{ source: string; version: number; lastRejection?: { reasons: string[] } }> {
  const body = (await (await fetch(url.replace(/\/graphql$/, '/readyz'))).json()) as { supergraph: never };
  return body.supergraph;
}

test('a changed supergraph file is served without a restart; one that does not load is refused and the last good one stays', async () => {
  expect(await kycProfileFields()).not.toContain('reviewedBy');
  const subgraphs = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, readFileSync(subgraphSchemaPath(name), 'utf8')]));
  subgraphs.compliance = subgraphs.compliance.replace('type KycProfile {', 'type KycProfile {\n  reviewedBy: String');
  const composed = composeSubgraphs(subgraphs);
  writeFileSync(supergraphPath, composed.supergraphSdl!);
  await eventually(kycProfileFields, (fields) => fields.includes('reviewedBy'), 'the gateway to serve the new file');
  expect(await supergraphStatus()).toMatchObject({ source: 'file', version: 0 });

  writeFileSync(supergraphPath, 'type Query { broken: ');
  const status = await eventually(supergraphStatus, (s) => s.lastRejection !== undefined, 'the broken file to be refused');
  expect(status.lastRejection?.reasons[0]).toMatch(/does not load/);
  expect(await kycProfileFields()).toContain('reviewedBy');
});

test('registry mode serves the file while the registry is empty, then the first published version without a restart', async () => {
  const config = readGatewayConfig();
  registryGateway = await startGateway({ ...config, port: 0, supergraphPath: SUPERGRAPH_PATH, schema: { ...config.schema, source: 'registry', pollMs: 50, usageReporting: false } });
  expect(await supergraphStatus(registryGateway.url)).toMatchObject({ source: 'registry', version: 0 });
  expect(await kycProfileFields(registryGateway.url)).not.toContain('reviewedBy');

  const mongo = await connectMongo(readMongoConfig());
  try {
    const sdl = readFileSync(subgraphSchemaPath('compliance'), 'utf8').replace('type KycProfile {', 'type KycProfile {\n  reviewedBy: String');
    const outcome = await publishSubgraph(new RegistryStore(mongo.database('gateway')), { subgraph: 'compliance', sdl, version: 'c-1', usageWindowDays: 30 });
    expect(outcome).toMatchObject({ status: 'published', version: 1 });
  } finally {
    await mongo.close();
  }
  await eventually(() => kycProfileFields(registryGateway!.url), (fields) => fields.includes('reviewedBy'), 'the gateway to serve registry version 1');
  expect(await supergraphStatus(registryGateway.url)).toMatchObject({ source: 'registry', version: 1 });
});
