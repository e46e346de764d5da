import { join } from 'node:path';
import type { SubgraphModule } from '../../runtime/subgraph-main';
import type { AccountsContext, AccountsServices } from './context';
import { Deposits } from './deposits';
import { HoldLedger } from './hold-ledger';
import { LedgerService } from './ledger-service';
import { createLoaders } from './loaders';
import { Onboarding } from './onboarding';
import { AccountsRepository } from './repository';
import { accountsResolvers } from './resolvers';

/** Customers, accounts and the double-entry ledger. */
export const accountsSubgraph: SubgraphModule<AccountsContext> = {
  name: 'accounts',
  async setup(mongo) {
    const repository = new AccountsRepository(mongo.database('accounts'));
    await repository.ensureIndexes();
    const ledger = new LedgerService(repository);
    const services: AccountsServices = { repository, ledger, holds: new HoldLedger(repository), onboarding: new Onboarding(repository), deposits: new Deposits(repository, ledger) };
    return {
      definition: {
        name: 'accounts',
        schemaPath: join(__dirname, 'schema.graphql'),
        resolvers: accountsResolvers,
        createContext: (identity, requestId) => ({ ...services, identity, requestId, loaders: createLoaders(repository) }),
      },
    };
  },
};
