import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MongoHandle } from '../../runtime/mongo';
import type { SubgraphModule } from '../../runtime/subgraph-main';
import { loadComplianceConfig, type ComplianceConfig } from './config';
import type { ComplianceContext } from './context';
import { createLoaders } from './loaders';
import { PaymentEventAuditor } from './payment-event-auditor';
import { ComplianceRepository } from './repository';
import { resolvers } from './resolvers';
import { loadSanctionsList } from './sdn';
import { ComplianceService } from './service';

export function createComplianceSubgraph(options: { config?: ComplianceConfig } = {}): SubgraphModule<ComplianceContext> {
  return {
    name: 'compliance',
    async setup(mongo: MongoHandle, log: Logger) {
      const config = options.config ?? loadComplianceConfig();
      const sanctions = loadSanctionsList(config.sanctionsDir);
      log.info({ entries: sanctions.entries, aliases: sanctions.aliases, dir: config.sanctionsDir }, 'sanctions list loaded');
      const repository = new ComplianceRepository(mongo.database('compliance'), { profileCacheMs: config.kycProfileCacheMs });
      await repository.ensureIndexes();
      const service = new ComplianceService(repository, config, sanctions.list, log);
      const auditor = new PaymentEventAuditor(repository, log, config.paymentEventsPollMs, config.paymentEventsBatch);
      auditor.start();
      return {
        definition: {
          name: 'compliance',
          schemaPath: join(__dirname, 'schema.graphql'),
          resolvers,
          createContext: (identity, requestId) => ({ identity, requestId, loaders: createLoaders(repository), service }),
        },
        close: () => auditor.stop(),
      };
    },
  };
}

export const complianceSubgraph = createComplianceSubgraph();
