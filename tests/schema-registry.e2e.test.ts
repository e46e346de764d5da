import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMongo, type MongoHandle } from '../runtime/mongo';
import { graphqlRequest } from '../scripts/gateway-client';
import { UNKNOWN_CLIENT } from '../gateway/usage-reporting';
import { RegistryStore } from '../schema/registry/store';
import { useKey } from '../schema/registry/usage-store';
import { eventually, fundedCustomer, gatewayClient, latestCursorOf, pay, record, type PaymentEvent } from './subscriptions-support';
import { startTestStack, type TestStack } from './support/stack';

/**
 * The schema registry end to end: subgraph processes publish on start, the gateway process
 * polls the registry and hot-swaps the supergraph, the CLIs (`schema:check`,
 * `schema:publish`, `schema:status`) run as the processes CI would run, against the same
 * database. Compliance serves its SDL from a file this test edits (COMPLIANCE_SCHEMA_PATH).
 */
const ROOT = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'paygraph-schema-'));
const COMPLIANCE_SDL = readFileSync(join(ROOT, 'subgraphs', 'compliance', 'schema.graphql'), 'utf8');
const compliancePath = join(dir, 'compliance.graphql');
writeFileSync(compliancePath, COMPLIANCE_SDL);

// A nullable field the default resolver answers (null): what a team adds before filling it.
const WITH_REVIEWED_BY = COMPLIANCE_SDL.replace('type KycProfile {', 'type KycProfile {\n  reviewedBy: String');

const EVENTS = `
  subscription AccountEvents($accountId: ID, $after: String) {
    paymentStatusChanged(accountId: $accountId, after: $after) {
      status
      payment { id source { customer { kyc { tier } } } complianceCheck { status } }
    }
  }`;

let stack: TestStack;
let mongo: MongoHandle;
let store: RegistryStore;
let alice: { customerId: string; accountId: string };
let bob: { customerId: string; accountId: string };

function edit(sdl: string, from: string, to: string): string {
  if (!sdl.includes(from)) throw new Error(`the SDL has no ${JSON.stringify(from)}`);
  return sdl.replace(from, to);
}

/** Runs one of the schema CLIs as its own process against the stack's registry. */
function cli(script: 'check' | 'publish' | 'status', args: string[] = []): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'schema', `${script}.ts`), ...args], {
      cwd: ROOT,
      env: { ...process.env, MONGODB_URI: stack.mongoUri, MONGODB_DB_PREFIX: stack.dbPrefix, LOG_LEVEL: 'error' },
    }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

function sdlFile(name: string, sdl: string): string {
  const path = join(dir, name);
  writeFileSync(path, sdl);
  return path;
}

async function readyz(): Promise<{ supergraph: { version: number; lastRejection?: { subgraph?: string; reasons: string[] } } }> {
  return (await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/readyz'))).json() as never;
}

const reviewedByQuery = (customerId: string) => stack.graphql('query($id: ID!) { customer(id: $id) { kyc { tier reviewedBy } } }', { id: customerId });

beforeAll(async () => {
  stack = await startTestStack({ COMPLIANCE_SCHEMA_PATH: compliancePath, SUPERGRAPH_POLL_MS: '100', SCHEMA_USAGE_FLUSH_MS: '100' });
  mongo = await connectMongo({ uri: stack.mongoUri, dbPrefix: stack.dbPrefix, idReads: 'auto', slowCommandMs: 0 }, { monitorCommands: false });
  store = new RegistryStore(mongo.client.db(`${stack.dbPrefix}gateway`));
  // The four subgraphs published on start: version 1 is the repository's graph.
  await eventually(readyz, (r) => r.supergraph.version === 1, 'the gateway to serve registry version 1');
  alice = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Alice Registry');
  bob = await fundedCustomer(stack.gatewayUrl, stack.operatorToken, 'Bob Registry');
  // Alice's account has an event, so subscriptions can start `after` its newest one.
  await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
}, 180_000);

afterAll(async () => {
  await mongo?.close();
  await stack?.stop();
});

test('a subgraph adds a field: the check passes, the gateway serves it without a restart, and a subscription opened before keeps receiving events', async () => {
  const { client } = gatewayClient(stack.gatewayUrl, stack.operatorToken);
  // `after` the newest event: every later event arrives, however long the subscription takes to open.
  const before = record<{ paymentStatusChanged: Pick<PaymentEvent, 'status'> & { payment: { id: string; complianceCheck: { status: string } | null } } }>(client, EVENTS, {
    accountId: alice.accountId,
    after: await latestCursorOf(stack.gatewayUrl, stack.operatorToken, alice.accountId),
  });
  try {
    const first = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    await eventually(async () => before.events, (events) => events.some((e) => e.paymentStatusChanged.payment.id === first.id && e.paymentStatusChanged.status === 'SETTLED'), 'the first payment to settle on the open subscription');

    const unknown = await reviewedByQuery(alice.customerId);
    expect(unknown.errors?.[0]?.message).toMatch(/Cannot query field "reviewedBy"/);

    const check = await cli('check', ['compliance', sdlFile('with-reviewed-by.graphql', WITH_REVIEWED_BY)]);
    expect(check.output).toMatch(/ok {3}no breaking change/);
    expect(check.output).toMatch(/^PASS$/m);
    expect(check.code).toBe(0);

    writeFileSync(compliancePath, WITH_REVIEWED_BY);
    await stack.restart('compliance');
    await eventually(readyz, (r) => r.supergraph.version === 2, 'the gateway to serve registry version 2');
    const served = await reviewedByQuery(alice.customerId);
    expect(served.errors).toBeUndefined();
    expect(served.data).toEqual({ customer: { kyc: { tier: 'VERIFIED', reviewedBy: null } } });

    // New subscriptions plan against the new graph; the old one carries on.
    const after = record<{ paymentStatusChanged: { payment: { id: string; source: { customer: { kyc: { reviewedBy: string | null } } } } } }>(
      client,
      'subscription New($accountId: ID, $after: String) { paymentStatusChanged(accountId: $accountId, after: $after) { status payment { id source { customer { kyc { reviewedBy } } } } } }',
      { accountId: alice.accountId, after: await latestCursorOf(stack.gatewayUrl, stack.operatorToken, alice.accountId) },
    );
    const second = await pay(stack.gatewayUrl, stack.operatorToken, alice.accountId, bob.accountId);
    await eventually(async () => before.events, (events) => events.some((e) => e.paymentStatusChanged.payment.id === second.id && e.paymentStatusChanged.status === 'SETTLED'), 'the second payment to settle on the subscription opened before the reload');
    expect(before.error).toBeUndefined();
    const settled = before.events.find((e) => e.paymentStatusChanged.payment.id === second.id && e.paymentStatusChanged.status === 'SETTLED');
    expect(settled?.paymentStatusChanged.payment.complianceCheck).toEqual({ status: 'CLEAR' });
    await eventually(async () => after.events, (events) => events.some((e) => e.paymentStatusChanged.payment.id === second.id), 'the new subscription to see the second payment');
    expect(after.error).toBeUndefined();
    expect(after.events[0].paymentStatusChanged.payment.source.customer.kyc.reviewedBy).toBeNull();
    after.stop();
    // Subscriptions are operations too: their usage is recorded like queries'.
    await eventually(() => store.usage.findOne({ _id: 'KycProfile.reviewedBy' }), (r) => Boolean(r?.uses[useKey(UNKNOWN_CLIENT, 'New')]), 'the subscription\'s use of KycProfile.reviewedBy to be recorded');
  } finally {
    before.stop();
    await client.dispose();
  }
}, 120_000);

test('removing a field no client used passes the check with a warning', async () => {
  const withoutParty = edit(WITH_REVIEWED_BY, '  "Whose name matched: CUSTOMER or BENEFICIARY."\n  party: String\n', '');
  const check = await cli('check', ['compliance', sdlFile('without-party.graphql', withoutParty)]);
  expect(check.output).toContain('WARN breaking: field SanctionsMatch.party was removed; no operation used it in the last 30 days');
  expect(check.output).toMatch(/^PASS with 1 warning\(s\)$/m);
  expect(check.code).toBe(0);
});

test('removing a field a recorded operation used fails the check, naming the operation and the client', async () => {
  const used = await graphqlRequest(
    stack.gatewayUrl,
    'query KycLimitsPanel($id: ID!) { customer(id: $id) { kyc { limits { singlePaymentUsdMinor } } } }',
    { id: alice.customerId },
    stack.operatorToken,
    { 'apollographql-client-name': 'ops-console' },
  );
  expect(used.errors).toBeUndefined();
  // The gateway flushes usage every 100 ms here: wait until the registry holds this use.
  await eventually(() => store.usage.findOne({ _id: 'KycProfile.limits' }), (r) => Boolean(r?.uses[useKey('ops-console', 'KycLimitsPanel')]), 'the use of KycProfile.limits to be recorded');

  const withoutLimits = edit(WITH_REVIEWED_BY, '  limits: KycLimits!\n', '');
  const check = await cli('check', ['compliance', sdlFile('without-limits.graphql', withoutLimits)]);
  expect(check.output).toMatch(/FAIL breaking: field KycProfile\.limits was removed; in use by KycLimitsPanel \(client ops-console\), last seen /);
  expect(check.code).toBe(1);
});

test('a publish that does not compose is rejected, visibly, and the last good supergraph is still served', async () => {
  const riskSdl = readFileSync(join(ROOT, 'subgraphs', 'risk', 'schema.graphql'), 'utf8');
  // payments owns Payment.status (PaymentStatus!, not shareable): risk may not define it too.
  const conflicting = edit(riskSdl, 'type Payment @key(fields: "id") {', 'type Payment @key(fields: "id") {\n  status: Int');
  const publish = await cli('publish', ['risk', sdlFile('risk-conflict.graphql', conflicting), '--version', 'risk-bad-1']);
  expect(publish.output).toMatch(/REJECTED \(rejection 1\); supergraph version 2 stays current/);
  expect(publish.output).toMatch(/composition: /);
  expect(publish.code).toBe(1);

  const ready = await eventually(readyz, (r) => r.supergraph.lastRejection !== undefined, 'the rejection to show in /readyz');
  expect(ready.supergraph.version).toBe(2);
  expect(ready.supergraph.lastRejection?.subgraph).toBe('risk');
  expect(ready.supergraph.lastRejection?.reasons[0]).toMatch(/^composition: .*Payment\.status/);
  const metrics = await (await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
  expect(metrics).toMatch(/^paygraph_schema_publish_rejections_total 1$/m);
  expect(metrics).toMatch(/^paygraph_supergraph_version 2$/m);

  const served = await reviewedByQuery(alice.customerId);
  expect(served.data).toEqual({ customer: { kyc: { tier: 'VERIFIED', reviewedBy: null } } });

  const status = await cli('status');
  expect(status.output).toMatch(/current supergraph: version 2, from compliance /);
  expect(status.output).toMatch(/rejection 1: risk risk-bad-1 at .* \(version 2 stayed current\)/);
  expect(status.code).toBe(0);
});
