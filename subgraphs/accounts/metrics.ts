import { Counter, Histogram } from 'prom-client';

/** Appends that lost the race for the next sequence and were retried: how hot accounts are across instances. */
export const ledgerAppendConflicts = new Counter({
  name: 'paygraph_ledger_append_conflicts_total',
  help: 'Ledger appends retried after another writer took the same (accountId, sequence)',
});

/** How many transfers share one insert of ledger entries (group commit): 1 when calls arrive one at a time. */
export const ledgerBatchTransfers = new Histogram({
  name: 'paygraph_ledger_batch_transfers',
  help: 'Transfers whose entries one ledger insert carried',
  buckets: [1, 2, 4, 8, 16, 32, 50],
});
