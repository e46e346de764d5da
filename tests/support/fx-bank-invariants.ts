import type { GraphData } from './bank-invariants';

/**
 * The bank invariants with more than one currency and cross-currency transfers in the mix,
 * checked through the graph: per currency, the customer accounts plus the house's FX position
 * account of that currency hold exactly what was deposited in it (each FX transfer is one leg
 * per currency through the house); every balance equals its entries; customer balances never
 * go negative; a settled same-currency payment has its two entries, a settled FX transfer its
 * four (a DEBIT and a CREDIT of the locked source amount in the source currency, of the locked
 * target amount in the target currency), anything else none.
 */
export interface FxBankAudit {
  byStatus: Record<string, number>;
  fxSettled: number;
  violations: string[];
}

interface Leg {
  accountId: string;
  direction: string;
  minor: bigint;
  currency: string;
}

const PAYMENTS_PAGE = `query($after: String) { payments(first: 100, after: $after) { edges { node { id status
  fx { sourceAmount { currency minorUnits } targetAmount { currency minorUnits } } } } pageInfo { hasNextPage endCursor } } }`;
const LEDGER_PAGE = `query($id: ID!, $after: String) { account(id: $id) { currency balance { minorUnits }
  ledger(first: 100, after: $after) { edges { node { id direction amount { minorUnits currency } paymentId } } pageInfo { hasNextPage endCursor } } } }`;

/**
 * `graph` reads payments (through the gateway); `ledger` reads accounts, and must see the
 * house's own accounts (an internal identity). `customerAccounts` and `houseAccounts` are every
 * account money moves between; `depositedMinor` is what was deposited, by currency;
 * `paymentIds` the payments made among them (the graph may hold others).
 */
export async function auditFxBank(
  graph: GraphData,
  ledger: GraphData,
  customerAccounts: string[],
  houseAccounts: string[],
  depositedMinor: Record<string, bigint>,
  paymentIds: ReadonlySet<string>,
): Promise<FxBankAudit> {
  const violations: string[] = [];
  const payments: { id: string; status: string; fx: null | { sourceAmount: { currency: string; minorUnits: string }; targetAmount: { currency: string; minorUnits: string } } }[] = [];
  for (let after: string | null = null; ; ) {
    const page: any = await graph(PAYMENTS_PAGE, { after });
    payments.push(...page.payments.edges.map((e: any) => e.node).filter((p: { id: string }) => paymentIds.has(p.id)));
    if (!page.payments.pageInfo.hasNextPage) break;
    after = page.payments.pageInfo.endCursor;
  }

  const legsByPayment = new Map<string, Leg[]>();
  const totals: Record<string, bigint> = {};
  const house = new Set(houseAccounts);
  for (const accountId of [...customerAccounts, ...houseAccounts]) {
    let balance = 0n;
    let sum = 0n;
    let currency = '';
    for (let after: string | null = null; ; ) {
      const page: any = await ledger(LEDGER_PAGE, { id: accountId, after });
      currency = page.account.currency;
      balance = BigInt(page.account.balance.minorUnits);
      for (const { node } of page.account.ledger.edges) {
        const minor = BigInt(node.amount.minorUnits);
        sum += node.direction === 'CREDIT' ? minor : -minor;
        if (node.amount.currency !== currency) violations.push(`entry ${node.id} of ${accountId} is in ${node.amount.currency}, the account holds ${currency}`);
        if (node.paymentId) {
          const legs = legsByPayment.get(node.paymentId) ?? [];
          legs.push({ accountId, direction: node.direction, minor, currency: node.amount.currency });
          legsByPayment.set(node.paymentId, legs);
        }
      }
      if (!page.account.ledger.pageInfo.hasNextPage) break;
      after = page.account.ledger.pageInfo.endCursor;
    }
    if (sum !== balance) violations.push(`account ${accountId}: balance ${balance} but its entries sum to ${sum}`);
    if (balance < 0n && !house.has(accountId)) violations.push(`account ${accountId}: negative balance ${balance}`);
    totals[currency] = (totals[currency] ?? 0n) + balance;
  }
  for (const currency of new Set([...Object.keys(totals), ...Object.keys(depositedMinor)])) {
    const held = totals[currency] ?? 0n;
    const deposited = depositedMinor[currency] ?? 0n;
    if (held !== deposited) violations.push(`${currency}: money made or lost: accounts and house hold ${held}, ${deposited} was deposited`);
  }

  let fxSettled = 0;
  for (const p of payments) {
    const legs = legsByPayment.get(p.id) ?? [];
    legsByPayment.delete(p.id);
    if (p.status !== 'SETTLED') {
      if (legs.length > 0) violations.push(`payment ${p.id} (${p.status}) has ${legs.length} ledger entries, expected none`);
      continue;
    }
    if (!p.fx) {
      if (legs.length !== 2) violations.push(`payment ${p.id} has ${legs.length} ledger entries, expected 2`);
      continue;
    }
    fxSettled++;
    const expected = [
      `CREDIT ${p.fx.sourceAmount.minorUnits} ${p.fx.sourceAmount.currency}`, `CREDIT ${p.fx.targetAmount.minorUnits} ${p.fx.targetAmount.currency}`,
      `DEBIT ${p.fx.sourceAmount.minorUnits} ${p.fx.sourceAmount.currency}`, `DEBIT ${p.fx.targetAmount.minorUnits} ${p.fx.targetAmount.currency}`,
    ].sort();
    const actual = legs.map((l) => `${l.direction} ${l.minor} ${l.currency}`).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) violations.push(`FX payment ${p.id} has entries ${actual.join(', ')}, expected ${expected.join(', ')}`);
    if (legs.filter((l) => house.has(l.accountId)).length !== 2) violations.push(`FX payment ${p.id} does not go through the house FX accounts`);
  }
  for (const id of legsByPayment.keys()) violations.push(`ledger entries for unknown payment ${id}`);
  const byStatus = payments.reduce<Record<string, number>>((counts, p) => ({ ...counts, [p.status]: (counts[p.status] ?? 0) + 1 }), {});
  return { byStatus, fxSettled, violations };
}
