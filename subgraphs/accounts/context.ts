import type { Identity } from '../../runtime/identity';
import type { Deposits } from './deposits';
import type { HoldLedger } from './hold-ledger';
import type { LedgerService } from './ledger-service';
import type { AccountsLoaders } from './loaders';
import type { Onboarding } from './onboarding';
import type { AccountsRepository } from './repository';

/** The long-lived services of the accounts subgraph, shared by every request. */
export interface AccountsServices {
  repository: AccountsRepository;
  ledger: LedgerService;
  holds: HoldLedger;
  onboarding: Onboarding;
  deposits: Deposits;
}

export interface AccountsContext extends AccountsServices {
  identity: Identity;
  requestId: string;
  loaders: AccountsLoaders;
}
