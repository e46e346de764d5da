import DataLoader from 'dataloader';
import type { PaymentDoc, PaymentEventDoc, PaymentsRepository } from './repository';

export interface AccountPaymentsKey {
  accountId: string;
  customerId?: string;
  limit: number;
  beforeId?: string;
}

/** DataLoaders, one set per request: a list of N payments costs O(1) queries. */
export function createLoaders(repository: PaymentsRepository) {
  return {
    payment: new DataLoader<string, PaymentDoc | null>(async (ids) => {
      const docs = await repository.findPayments(ids);
      const byId = new Map(docs.map((d) => [d._id, d]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    eventsOfPayment: new DataLoader<string, PaymentEventDoc[]>(async (ids) => {
      const events = await repository.eventsOfPayments(ids);
      return ids.map((id) => events.filter((e) => e.paymentId === id).sort((a, b) => a.number - b.number));
    }),
    /** Account.payments: one query per distinct (account, page) in the batch, run together. */
    accountPayments: new DataLoader<AccountPaymentsKey, PaymentDoc[], string>(
      (keys) => Promise.all(keys.map((k) => repository.listPayments({ accountId: k.accountId, customerId: k.customerId, beforeId: k.beforeId }, k.limit))),
      { cacheKeyFn: (k) => JSON.stringify([k.accountId, k.customerId ?? null, k.limit, k.beforeId ?? null]) },
    ),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
