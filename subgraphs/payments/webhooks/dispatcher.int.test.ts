import { Writable } from 'node:stream';
import pino from 'pino';
import { register } from 'prom-client';
import { ConfigError } from '../../../runtime/config';
import { connectMongo, readMongoConfig, type MongoHandle } from '../../../runtime/mongo';
import { isolateDatabases } from '../../../tests/support/database';
import { eventually } from '../../../tests/support/wait';
import { WebhookReceiver } from '../../../tests/webhooks-support';
import { GraphCollaborators } from '../collaborators';
import { InProcessEventNotifier } from '../event-notifier';
import { PaymentsRepository } from '../repository';
import { loadWebhooksConfig, type WebhooksConfig } from './config';
import { WebhookDispatcher } from './dispatcher';
import { WebhookEndpoints } from './endpoints';
import { WebhookStore, WEBHOOKS_DATABASE } from './store';

/**
 * The dispatcher on the real embedded database, with a real receiver on loopback: giving up,
 * disabling and alerting; the address guard at delivery time; production's registration rules.
 */
isolateDatabases();

const operator = { subject: 'ops', scopes: ['ops:admin'] };
let mongo: MongoHandle;
let repository: PaymentsRepository;
let store: WebhookStore;
const receivers: WebhookReceiver[] = [];
const dispatchers: WebhookDispatcher[] = [];
const logLines: string[] = [];
const log = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logLines.push(chunk.toString()); done(); } }));

function config(overrides: Partial<WebhooksConfig> = {}): WebhooksConfig {
  return {
    ...loadWebhooksConfig(),
    timeoutMs: 500, leaseMs: 2000, pollMs: 50, retry: { baseMs: 20, maxMs: 40, giveUpAfterMs: 400 }, addressGuard: false, allowLoopback: false,
    ...overrides,
  };
}

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
  repository = new PaymentsRepository(mongo.database('payments'));
  await repository.ensureIndexes();
  store = new WebhookStore(mongo.database(WEBHOOKS_DATABASE));
  await store.ensureIndexes();
});
afterAll(async () => {
  await Promise.all(dispatchers.map((d) => d.stop()));
  await Promise.all(receivers.map((r) => r.stop()));
  await mongo?.close();
});

async function receiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().start();
  receivers.push(r);
  return r;
}

function dispatcher(settings: WebhooksConfig): WebhookDispatcher {
  const d = new WebhookDispatcher(store, repository, new InProcessEventNotifier(), settings, log);
  dispatchers.push(d);
  d.start();
  return d;
}

let payments = 0;
async function appendEvents(count: number): Promise<string> {
  const paymentId = `pay_${String(++payments).padStart(24, '0')}`;
  const statuses = ['PENDING', 'PROCESSING', 'SETTLED'] as const;
  await repository.appendEvents(paymentId, statuses.slice(0, count).map((status, i) => ({ number: i + 1, status, previousStatus: i ? statuses[i - 1] : null, at: new Date() })), { accountIds: ['acc_x'], customerIds: ['cus_x'] });
  return paymentId;
}

const counter = async (name: string) => ((await register.getSingleMetric(name)?.get())?.values ?? []).reduce((sum, v) => sum + v.value, 0);

test('given up after the schedule: the endpoint is disabled, an operator alerted; switched on again, the next event goes', async () => {
  const settings = config();
  const endpoints = new WebhookEndpoints(store, repository, new GraphCollaborators(), settings);
  const r = await receiver();
  r.answer = () => 500;
  const endpoint = await endpoints.create(operator, { url: r.url });
  r.secrets = [endpoint.signingSecret!];
  const disabledBefore = await counter('paygraph_webhook_endpoints_disabled_total');
  const paymentId = await appendEvents(2);
  const d = dispatcher(settings);

  const disabled = await eventually(() => store.findEndpoint(endpoint._id), (e) => e?.enabled === false, 'the endpoint disabled', 20_000);
  expect(disabled!.disabledReason).toMatch(/given up after \d+ attempts/);
  // Disabled first, then the delivery given up.
  const [first, second] = await eventually(() => store.deliveriesPage(endpoint._id, undefined, 10), (ds) => ds[0]?.state === 'failed', 'the delivery given up', 20_000);
  expect(first).toMatchObject({ paymentId, state: 'failed' });
  expect(first.attemptCount).toBeGreaterThan(1);
  // The payment's next event waited for the first to be given up, and now waits for the endpoint.
  expect(second).toMatchObject({ paymentId, state: 'pending', attemptCount: 0 });
  expect(r.received.every((x) => x.eventId === first.eventId && x.verifiedWith.length === 1)).toBe(true);
  expect(await counter('paygraph_webhook_endpoints_disabled_total')).toBe(disabledBefore + 1);
  const alert = logLines.map((line) => JSON.parse(line) as { level: number; alert?: string; endpointId?: string }).find((line) => line.alert === 'webhook_endpoint_disabled');
  expect(alert).toMatchObject({ level: 50, endpointId: endpoint._id });
  // Secrets are never logged, and are stored sealed.
  expect(logLines.join('\n')).not.toContain(endpoint.signingSecret!);
  expect(JSON.stringify(await store.endpoints.findOne({ _id: endpoint._id }))).not.toContain(endpoint.signingSecret!);

  r.answer = () => 200;
  await endpoints.update(operator, { id: endpoint._id, enabled: true });
  d.refresh(endpoint._id);
  await eventually(() => store.findDelivery(second._id), (x) => x?.state === 'delivered', 'the next event delivered', 20_000);
  expect(r.acknowledged()).toEqual([second.eventId]);
  await d.stop();
  await store.deleteEndpoint(endpoint._id);
});

test('the address guard runs again at delivery time: a receiver now on a refused address gets nothing', async () => {
  const r = await receiver();
  // Registered while loopback was allowed; the process sending now refuses it.
  const endpoint = await new WebhookEndpoints(store, repository, new GraphCollaborators(), config({ addressGuard: true, allowLoopback: true })).create(operator, { url: r.url });
  await appendEvents(1);
  const d = dispatcher(config({ addressGuard: true, allowLoopback: false, retry: { baseMs: 1000, maxMs: 1000, giveUpAfterMs: 60_000 } }));
  const [delivery] = await eventually(() => store.deliveriesPage(endpoint._id, undefined, 10), (ds) => ds[0]?.attemptCount >= 1, 'a refused attempt', 20_000);
  const [attempt] = await store.attemptsOf([delivery._id]);
  expect(attempt.error).toMatch(/^refused: 127\.0\.0\.1 resolves to a loopback address/);
  expect(attempt.statusCode).toBeNull();
  expect(r.received).toHaveLength(0);
  await d.stop();
  await store.deleteEndpoint(endpoint._id);
});

test('stopping (SIGTERM) cuts a POST in flight, records it as aborted and leaves it due again at once', async () => {
  const r = await receiver();
  r.answer = () => 'hang';
  const settings = config({ timeoutMs: 60_000, leaseMs: 120_000 });
  const endpoint = await new WebhookEndpoints(store, repository, new GraphCollaborators(), settings).create(operator, { url: r.url });
  await appendEvents(1);
  const d = dispatcher(settings);
  await r.until(() => r.received.length === 1, 'the POST');
  await d.stop();
  const [delivery] = await store.deliveriesPage(endpoint._id, undefined, 10);
  const [attempt] = await store.attemptsOf([delivery._id]);
  expect(attempt.error).toMatch(/^aborted/);
  expect(delivery).toMatchObject({ state: 'pending', attemptCount: 1 });
  expect(delivery.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
  await store.deleteEndpoint(endpoint._id);
});

test('production: https only, public addresses only, a sealing key required', async () => {
  const production = new WebhookEndpoints(store, repository, new GraphCollaborators(), config({ production: true, addressGuard: true }));
  const codeOf = (url: string) => production.create(operator, { url }).then(() => 'created', (e: { extensions?: { code?: string } }) => e.extensions?.code);
  expect(await codeOf('http://hooks.example.com/x')).toBe('BAD_USER_INPUT');
  expect(await codeOf('https://127.0.0.1/x')).toBe('BAD_USER_INPUT');
  expect(await codeOf('https://localhost:8443/x')).toBe('BAD_USER_INPUT');
  expect(await codeOf('https://169.254.169.254/latest/meta-data/')).toBe('BAD_USER_INPUT');
  expect(await codeOf('https://[fd00:ec2::254]/x')).toBe('BAD_USER_INPUT');
  expect(await codeOf('https://10.1.2.3/x')).toBe('BAD_USER_INPUT');

  const saved = { ...process.env };
  try {
    process.env.NODE_ENV = 'production';
    delete process.env.PAYGRAPH_WEBHOOK_SECRET_KEY;
    expect(() => loadWebhooksConfig()).toThrow(ConfigError);
    process.env.PAYGRAPH_WEBHOOK_SECRET_KEY = 'ab'.repeat(32);
    expect(loadWebhooksConfig()).toMatchObject({ production: true, addressGuard: true, allowLoopback: false });
  } finally {
    process.env = saved;
  }
});
