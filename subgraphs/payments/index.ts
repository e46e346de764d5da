import { join } from 'node:path';
import type { SubgraphModule } from '../../runtime/subgraph-main';
import { GraphCollaborators } from './collaborators';
import { loadPaymentsConfig } from './config';
import type { PaymentsContext } from './context';
import { createPaymentEventNotifier } from './event-notifier';
import { loadRateTable } from './fx';
import { createLoaders } from './loaders';
import { PaymentService } from './payment-service';
import { PaymentsRepository } from './repository';
import { resolvers } from './resolvers';
import { PaymentSaga } from './saga';
import { countPaymentsByStatus } from './metrics';

/** The payments subgraph: payment lifecycle, idempotency, refunds, cross-border, events. */
export const paymentsSubgraph: SubgraphModule<PaymentsContext> = {
  name: 'payments',
  async setup(mongo, log) {
    const config = loadPaymentsConfig();
    const rates = loadRateTable();
    const repository = new PaymentsRepository(mongo.database('payments'));
    await repository.ensureIndexes();
    const collaborators = new GraphCollaborators();
    const notifier = createPaymentEventNotifier();
    const saga = new PaymentSaga(repository, collaborators, notifier, config, log);
    const service = new PaymentService(repository, saga, collaborators, rates, config, log);
    saga.start();
    const stopCounting = countPaymentsByStatus(repository);
    return {
      definition: {
        name: 'payments',
        schemaPath: join(__dirname, 'schema.graphql'),
        resolvers,
        readiness: { eventBus: () => notifier.connected() },
        createContext: (identity, requestId) => ({
          identity, requestId, loaders: createLoaders(repository), repository, service, collaborators, notifier,
        }),
      },
      close: async () => {
        await saga.stop();
        stopCounting();
        await notifier.close();
      },
    };
  },
};
