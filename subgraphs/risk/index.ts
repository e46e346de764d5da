import { join } from 'node:path';
import type { Logger } from 'pino';
import type { MongoHandle } from '../../runtime/mongo';
import type { SubgraphModule } from '../../runtime/subgraph-main';
import { InProcessAlertBus, type AlertBus } from './alerts';
import { RiskService } from './assessments';
import type { RiskContext } from './context';
import { createLoaders } from './loaders';
import { RiskRepository } from './repository';
import { resolvers } from './resolvers';
import { loadRules, type RiskRules } from './rules';

export interface RiskOptions {
  /** Defaults to rules.json (or RISK_RULES_PATH). */
  rules?: RiskRules;
  /** Defaults to an in-process bus; pass a cross-process one to fan alerts out between instances. */
  alerts?: AlertBus;
}

export function createRiskSubgraph(options: RiskOptions = {}): SubgraphModule<RiskContext> {
  return {
    name: 'risk',
    async setup(mongo: MongoHandle, log: Logger) {
      const rules = options.rules ?? loadRules();
      const alerts: AlertBus = options.alerts ?? new InProcessAlertBus();
      const repository = new RiskRepository(mongo.database('risk'));
      await repository.ensureIndexes();
      const service = new RiskService(repository, rules, alerts, log);
      return {
        definition: {
          name: 'risk',
          schemaPath: join(__dirname, 'schema.graphql'),
          resolvers,
          createContext: (identity, requestId) => ({ identity, requestId, loaders: createLoaders(repository), repository, service, alerts }),
        },
        close: async () => {
          await alerts.close?.();
        },
      };
    },
  };
}

export const riskSubgraph = createRiskSubgraph();
