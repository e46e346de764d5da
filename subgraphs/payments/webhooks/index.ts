import type { MongoHandle } from '../../../runtime/mongo';
import type { Logger } from 'pino';
import type { Collaborators } from '../collaborators';
import type { PaymentEventNotifier } from '../event-notifier';
import type { PaymentsRepository } from '../repository';
import { loadWebhooksConfig } from './config';
import { WebhookDispatcher } from './dispatcher';
import { WebhookEndpoints } from './endpoints';
import { WebhookStore, WEBHOOKS_DATABASE } from './store';

export { webhookResolvers } from './resolvers';
export type { WebhookEndpoints } from './endpoints';

/** Webhooks for the payments subgraph: endpoint management for the graph, and this process's dispatcher. */
export async function setupWebhooks(mongo: MongoHandle, payments: PaymentsRepository, notifier: PaymentEventNotifier, collaborators: Collaborators, log: Logger) {
  const config = loadWebhooksConfig();
  const store = new WebhookStore(mongo.database(WEBHOOKS_DATABASE));
  await store.ensureIndexes();
  const dispatcher = config.deliver ? new WebhookDispatcher(store, payments, notifier, config, log) : undefined;
  const endpoints = new WebhookEndpoints(store, payments, collaborators, config, (id) => dispatcher?.refresh(id));
  return {
    endpoints,
    start: () => dispatcher?.start(),
    stop: async () => dispatcher?.stop(),
  };
}
