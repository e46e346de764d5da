import { Counter } from 'prom-client';

/** Appends that lost the race for the next sequence and were retried: how hot accounts are across instances. */
export const ledgerAppendConflicts = new Counter({
  name: 'paygraph_ledger_append_conflicts_total',
  help: 'Ledger appends retried after another writer took the same (accountId, sequence)',
});
