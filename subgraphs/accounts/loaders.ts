import DataLoader from 'dataloader';
import type { LedgerPosition } from './ledger';
import type { AccountDoc, AccountsRepository, CustomerDoc } from './repository';

/** Per-request batching: a list of N customers or accounts costs one query per kind, not N. */
export interface AccountsLoaders {
  customerById: DataLoader<string, CustomerDoc | null>;
  accountById: DataLoader<string, AccountDoc | null>;
  accountsByCustomerId: DataLoader<string, AccountDoc[]>;
  /** Current balance in minor units (0 for an account with no entries). */
  balanceByAccountId: DataLoader<string, bigint>;
  /**
   * The newest entry's position (posted and available balance, from one record, so the two
   * always agree); sequence 0 for an account with no entries. Read only when asked for.
   */
  positionByAccountId: DataLoader<string, LedgerPosition | null>;
}

function byId<T extends { _id: string }>(ids: readonly string[], docs: T[]): (T | null)[] {
  const map = new Map(docs.map((doc) => [doc._id, doc]));
  return ids.map((id) => map.get(id) ?? null);
}

export function createLoaders(repository: AccountsRepository): AccountsLoaders {
  return {
    customerById: new DataLoader(async (ids) => byId(ids, await repository.findCustomersByIds(ids))),
    accountById: new DataLoader(async (ids) => byId(ids, await repository.findAccountsByIds(ids))),
    accountsByCustomerId: new DataLoader(async (customerIds) => {
      const accounts = await repository.findAccountsByCustomerIds(customerIds);
      return customerIds.map((customerId) => accounts.filter((account) => account.customerId === customerId));
    }),
    balanceByAccountId: new DataLoader(async (accountIds) => {
      const balances = await repository.latestBalances(accountIds);
      return accountIds.map((id) => balances.get(id) ?? 0n);
    }),
    // One command for the whole batch (the ledger writer's read), not one per account.
    positionByAccountId: new DataLoader(async (accountIds) => {
      const positions = await repository.ledgerPositions(accountIds);
      return accountIds.map((id) => positions.get(id) ?? null);
    }),
  };
}
