/**
 * The bank invariants of the money issue, checked through the graph (no database access):
 * no money made or lost, every balance equal to the sum of its ledger entries and never
 * negative, no double posting (a settled transfer has exactly two entries, anything else
 * none). Shared by the bank test, the resilience tests and the soak benchmark.
 */
export type GraphData = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export interface PaymentSummary {
  id: string;
  status: string;
}

export interface BankAudit {
  payments: PaymentSummary[];
  byStatus: Record<string, number>;
  /** Sum of the audited accounts' balances, in minor units. */
  totalMinor: bigint;
  /** Payments still moving by themselves (PENDING, PROCESSING): after a fault they must drain. */
  unfinished: PaymentSummary[];
  /** Every broken invariant, in words; empty when the bank is sound. */
  violations: string[];
}

/** Statuses a payment leaves by itself; the others are terminal or wait for a person. */
export const MOVING_STATUSES = ['PENDING', 'PROCESSING'];

const PAYMENTS_PAGE = 'query($after: String) { payments(first: 100, after: $after) { edges { node { id status } } pageInfo { hasNextPage endCursor } } }';
const LEDGER_PAGE = `query($id: ID!, $after: String) { account(id: $id) { balance { minorUnits }
  ledger(first: 100, after: $after) { edges { node { id direction amount { minorUnits } paymentId } } pageInfo { hasNextPage endCursor } } } }`;

/** Every payment the caller can see, through the graph. */
export async function listPayments(data: GraphData): Promise<PaymentSummary[]> {
  const payments: PaymentSummary[] = [];
  for (let after: string | null = null; ; ) {
    const page: any = await data(PAYMENTS_PAGE, { after });
    payments.push(...page.payments.edges.map((e: any) => e.node));
    if (!page.payments.pageInfo.hasNextPage) return payments;
    after = page.payments.pageInfo.endCursor;
  }
}

/**
 * Audits `accountIds` (every account money moves between, all in one currency) against the
 * total deposited into them; every payment is expected to move money among these accounts only.
 */
export async function auditBank(data: GraphData, accountIds: string[], depositedMinor: bigint, options: { paymentIds?: ReadonlySet<string> } = {}): Promise<BankAudit> {
  const violations: string[] = [];
  // `paymentIds`: audit only these (a test sharing its stack with another's payments).
  const payments = (await listPayments(data)).filter((p) => !options.paymentIds || options.paymentIds.has(p.id));
  const entriesByPayment = new Map<string, number>();
  const seenEntries = new Set<string>();
  let totalMinor = 0n;
  for (const accountId of accountIds) {
    let balance = 0n;
    let sum = 0n;
    for (let after: string | null = null; ; ) {
      const page: any = await data(LEDGER_PAGE, { id: accountId, after });
      balance = BigInt(page.account.balance.minorUnits);
      for (const { node } of page.account.ledger.edges) {
        if (seenEntries.has(node.id)) violations.push(`ledger entry ${node.id} listed twice`);
        seenEntries.add(node.id);
        const amount = BigInt(node.amount.minorUnits);
        sum += node.direction === 'CREDIT' ? amount : -amount;
        if (node.paymentId) entriesByPayment.set(node.paymentId, (entriesByPayment.get(node.paymentId) ?? 0) + 1);
      }
      if (!page.account.ledger.pageInfo.hasNextPage) break;
      after = page.account.ledger.pageInfo.endCursor;
    }
    if (sum !== balance) violations.push(`account ${accountId}: balance ${balance} but its entries sum to ${sum}`);
    if (balance < 0n) violations.push(`account ${accountId}: negative balance ${balance}`);
    totalMinor += balance;
  }
  if (totalMinor !== depositedMinor) violations.push(`money made or lost: accounts hold ${totalMinor}, ${depositedMinor} was deposited`);
  for (const p of payments) {
    const entries = entriesByPayment.get(p.id) ?? 0;
    const expected = p.status === 'SETTLED' ? 2 : 0;
    if (entries !== expected) violations.push(`payment ${p.id} (${p.status}) has ${entries} ledger entries, expected ${expected}`);
  }
  const known = new Set(payments.map((p) => p.id));
  for (const id of entriesByPayment.keys()) if (!known.has(id)) violations.push(`ledger entries for unknown payment ${id}`);
  const byStatus = payments.reduce<Record<string, number>>((counts, p) => ({ ...counts, [p.status]: (counts[p.status] ?? 0) + 1 }), {});
  return { payments, byStatus, totalMinor, unfinished: payments.filter((p) => MOVING_STATUSES.includes(p.status)), violations };
}
