import pino from 'pino';
import { register } from 'prom-client';
import { connectMongo, readMongoConfig, type MongoHandle } from '../../../runtime/mongo';
import { commandsBy } from '../../../tests/support/commands';
import { isolateDatabases } from '../../../tests/support/database';
import { eventually } from '../../../tests/support/wait';
import { WebhookReceiver } from '../../../tests/webhooks-support';
import { GraphCollaborators } from '../collaborators';
import { InProcessEventNotifier } from '../event-notifier';
import { PaymentsRepository } from '../repository';
import { loadWebhooksConfig } from './config';
import { WebhookDispatcher } from './dispatcher';
import { WebhookEndpoints } from './endpoints';
import { WebhookStore, WEBHOOKS_DATABASE } from './store';

/**
 * What delivering costs the database, counted from the driver's own command events: per
 * delivery one attempt claimed (an insert) and one outcome written with the attempt's result
 * (an update), both shared by concurrent sends; the endpoint's queue read once, not after
 * every send. The poll is switched off so that only the deliveries' own commands are counted.
 */
isolateDatabases();

const operator = { subject: 'ops', scopes: ['ops:admin'] };
let mongo: MongoHandle;
let repository: PaymentsRepository;
let store: WebhookStore;
let receiver: WebhookReceiver;

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
  repository = new PaymentsRepository(mongo.database('payments'));
  await repository.ensureIndexes();
  store = new WebhookStore(mongo.database(WEBHOOKS_DATABASE));
  await store.ensureIndexes();
  receiver = await new WebhookReceiver().start();
});
afterAll(async () => {
  await receiver?.stop();
  await mongo?.close();
});

const delivered = async () => ((await register.getSingleMetric('paygraph_webhook_deliveries_total')?.get())?.values ?? []).filter((v) => v.labels.outcome === 'delivered').reduce((sum, v) => sum + v.value, 0);

test('30 events of 10 payments: one claim and one outcome per delivery, no attempt update, the queue read once', async () => {
  const settings = { ...loadWebhooksConfig(), pollMs: 3_600_000, timeoutMs: 5000, leaseMs: 10_000, addressGuard: false };
  const endpoint = await new WebhookEndpoints(store, repository, new GraphCollaborators(), settings).create(operator, { url: receiver.url });
  receiver.secrets = [endpoint.signingSecret!];
  const statuses = ['PENDING', 'PROCESSING', 'SETTLED'] as const;
  for (let p = 0; p < 10; p++) {
    const paymentId = `pay_${String(p + 1).padStart(24, '0')}`;
    await repository.appendEvents(paymentId, statuses.map((status, i) => ({ number: i + 1, status, previousStatus: i ? statuses[i - 1] : null, at: new Date() })), { accountIds: ['acc_x'], customerIds: ['cus_x'] });
  }
  const before = await delivered();
  const dispatcher = new WebhookDispatcher(store, repository, new InProcessEventNotifier(), settings, pino({ level: 'silent' }));
  const database = mongo.database(WEBHOOKS_DATABASE).databaseName;
  const { webhooks } = await commandsBy({ webhooks: { client: mongo.client, database } }, async () => {
    dispatcher.start();
    await eventually(delivered, (count) => count === before + 30, 'every delivery recorded');
    await dispatcher.stop();
  });
  const count = (command: string) => webhooks.filter((c) => c === command).length;
  console.log(`webhook commands for 30 deliveries: ${JSON.stringify(Object.fromEntries([...new Set(webhooks)].map((c) => [c, count(c)])))}`);

  expect(count('update webhook_attempts')).toBe(0);
  expect(count('insert webhook_attempts')).toBeLessThanOrEqual(30);
  expect(count('update webhook_deliveries')).toBeLessThanOrEqual(30);
  expect(count('insert webhook_deliveries')).toBeLessThanOrEqual(30);
  expect(count('find webhook_deliveries')).toBe(1);
  // The payments' events went in order, each acknowledged once.
  expect(receiver.overlaps).toEqual([]);
  expect(receiver.acknowledged()).toHaveLength(30);

  // The graph's attempts list: each delivery's one attempt, with its result.
  const deliveries = await store.deliveriesPage(endpoint._id, undefined, 100);
  const attempts = await store.attemptsOf(deliveries.map((d) => d._id));
  expect(deliveries.every((d) => d.state === 'delivered' && d.attemptCount === 1)).toBe(true);
  expect(attempts).toHaveLength(30);
  expect(attempts.every((a) => a.number === 1 && a.ok && a.statusCode === 200 && a.finishedAt !== null && typeof a.latencyMs === 'number')).toBe(true);
});
