import type { GraphQLResult } from '../../scripts/gateway-client';

/**
 * The two-phase part of the bank test: authorizations closed every way (full and partial
 * capture, void, expiry, a capture racing a void) mixed with ordinary payments, while an
 * observer keeps reading every account's available balance.
 */
export type Graphql = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<GraphQLResult<T>>;

export type HoldPlan = 'capture-full' | 'capture-part' | 'void' | 'expire' | 'race';
export const HOLD_PLANS: readonly HoldPlan[] = ['capture-full', 'capture-part', 'void', 'expire', 'race'];

const AUTHORIZE = 'mutation($i: AuthorizePaymentInput!) { authorizePayment(input: $i) { id status amount { minorUnits } } }';
const CAPTURE = 'mutation($id: ID!, $amount: MoneyInput) { capturePayment(id: $id, amount: $amount) { id status } }';
const VOID = 'mutation($id: ID!) { voidPayment(id: $id) { id status } }';
const BALANCES = 'query($id: ID!) { account(id: $id) { availableBalance { minorUnits } pendingBalance { minorUnits } } }';

export interface HoldOutcome {
  id: string;
  plan: HoldPlan;
  /** Unexpected errors (a race's loser refused with INVALID_STATE_TRANSITION is expected). */
  errors: unknown[];
}

const minorToUsd = (minor: bigint) => `${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;

/** Authorizes, then closes the hold as `plan` says (an 'expire' hold is left to the sweeper). */
export async function runHold(graphql: Graphql, input: Record<string, unknown>, plan: HoldPlan, partOf: (minor: bigint) => bigint): Promise<HoldOutcome | null> {
  const authorized = await graphql<{ authorizePayment: { id: string; status: string; amount: { minorUnits: string } } }>(AUTHORIZE, { i: input });
  if (authorized.errors?.length) return { id: '', plan, errors: authorized.errors };
  const { id, status, amount } = authorized.data!.authorizePayment;
  if (status !== 'AUTHORIZED' || plan === 'expire') return { id, plan, errors: [] };
  const held = BigInt(amount.minorUnits);
  const captureOf = (minor: bigint | null) => graphql(CAPTURE, { id, amount: minor === null ? null : { amount: minorToUsd(minor), currency: 'USD' } });
  const answers =
    plan === 'capture-full' ? [await captureOf(null)]
      : plan === 'capture-part' ? [await captureOf(partOf(held))]
        : plan === 'void' ? [await graphql(VOID, { id })]
          : await Promise.all([captureOf(partOf(held)), graphql(VOID, { id })]);
  const errors = answers.flatMap((answer) => answer.errors ?? []);
  // In a race exactly one of the two wins; the other is refused as a closed hold.
  if (plan === 'race') {
    const refused = errors.filter((error: any) => error.extensions?.code === 'INVALID_STATE_TRANSITION');
    return { id, plan, errors: refused.length === 1 && errors.length === 1 ? [] : errors };
  }
  return { id, plan, errors };
}

/** Reads every account's balances until stopped: each reading where available or pending < 0 (holds beyond the posted balance). */
export function observeAvailable(graphql: Graphql, accountIds: string[]): { stop(): Promise<{ readings: number; violations: string[] }> } {
  const violations: string[] = [];
  let readings = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const id of accountIds) {
        const result = await graphql<{ account: { availableBalance: { minorUnits: string }; pendingBalance: { minorUnits: string } } }>(BALANCES, { id });
        if (result.errors?.length) continue; // a reading refused under load says nothing about balances
        const { availableBalance, pendingBalance } = result.data!.account;
        readings++;
        if (BigInt(availableBalance.minorUnits) < 0n) violations.push(`account ${id}: available ${availableBalance.minorUnits} < 0`);
        // available and pending are one ledger record's (posted − held, held): holds within the posted balance, never negative.
        if (BigInt(pendingBalance.minorUnits) < 0n) violations.push(`account ${id}: pending ${pendingBalance.minorUnits} < 0`);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { readings, violations };
    },
  };
}
