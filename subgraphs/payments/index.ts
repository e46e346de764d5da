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
import { ApproverKeyRepository } from './approver-key-repository';
import { SignedApprovals } from './signed-approvals';
import { resolvers } from './resolvers';
import { PaymentSaga } from './saga';
import { countPaymentsByStatus } from './metrics';
import { setupWebhooks } from './webhooks';
import { loadHoldsConfig } from './hold-config';
import { HoldRepository } from './hold-repository';
import { PaymentHolds } from './hold-service';
import { HoldSweeper } from './hold-sweeper';

/** The payments subgraph: payment lifecycle, idempotency, refunds, cross-border, events. */
export const paymentsSubgraph: SubgraphModule<PaymentsContext> = {
  name: 'payments',
  async setup(mongo, log) {
    const config = loadPaymentsConfig();
    const rates = loadRateTable();
    const repository = new PaymentsRepository(mongo.database('payments'));
    await repository.ensureIndexes();
    const approverKeys = new ApproverKeyRepository(mongo.database('payments'));
    await approverKeys.ensureIndexes();
    const collaborators = new GraphCollaborators();
    const notifier = createPaymentEventNotifier();
    const saga = new PaymentSaga(repository, collaborators, notifier, config, log);
    const service = new PaymentService(repository, saga, collaborators, rates, config, log, new SignedApprovals(approverKeys));
    saga.start();
    const holdsConfig = loadHoldsConfig();
    const holds = new PaymentHolds(repository, saga, collaborators, service, holdsConfig, log);
    const holdSweeper = new HoldSweeper(new HoldRepository(mongo.database('payments')), holds, holdsConfig, log);
    holdSweeper.start();
    const webhooks = await setupWebhooks(mongo, repository, notifier, collaborators, log);
    webhooks.start();
    const stopCounting = countPaymentsByStatus(repository);
    return {
      definition: {
        name: 'payments',
        schemaPath: join(__dirname, 'schema.graphql'),
        resolvers,
        readiness: { eventBus: () => notifier.connected() },
        createContext: (identity, requestId) => ({
          identity, requestId, loaders: createLoaders(repository), repository, service, collaborators, notifier, webhooks: webhooks.endpoints, holds,
        }),
      },
      close: async () => {
        await webhooks.stop();
        await holdSweeper.stop();
        await saga.stop();
        stopCounting();
        await notifier.close();
      },
    };
  },
};
