import { errorCodes, operator, signedGraphql, type GraphQLResponse } from './signed-client';
import type { Identity } from '../../runtime/identity';
import { accountsSubgraph } from '../../subgraphs/accounts/index';
import { complianceSubgraph } from '../../subgraphs/compliance/index';
import { riskSubgraph } from '../../subgraphs/risk/index';
import { paymentsSubgraph } from '../../subgraphs/payments/index';
import { startSubgraph, type StartedSubgraph, type SubgraphModule } from '../../runtime/subgraph-main';

/**
 * Test support for payments integration tests (not used by the service): starts accounts,
 * risk, compliance and payments in-process against the embedded database, and offers the
 * few calls the tests need to set up customers, accounts and funds.
 */
export interface PaymentsStack {
  accounts: StartedSubgraph;
  risk: StartedSubgraph;
  compliance: StartedSubgraph;
  payments?: StartedSubgraph;
  stop(): Promise<void>;
}

export async function startStack(options: { withPayments?: boolean } = {}): Promise<PaymentsStack> {
  const started: StartedSubgraph[] = [];
  const start = async (module: SubgraphModule<object>, urlEnv: string) => {
    const subgraph = await startSubgraph(module, { port: 0 });
    started.push(subgraph);
    process.env[urlEnv] = subgraph.url;
    return subgraph;
  };
  let accounts: StartedSubgraph, risk: StartedSubgraph, compliance: StartedSubgraph;
  let payments: StartedSubgraph | undefined;
  try {
    accounts = await start(accountsSubgraph as SubgraphModule<object>, 'ACCOUNTS_URL');
    risk = await start(riskSubgraph as SubgraphModule<object>, 'RISK_URL');
    compliance = await start(complianceSubgraph as SubgraphModule<object>, 'COMPLIANCE_URL');
    if (options.withPayments !== false) payments = await start(paymentsSubgraph as SubgraphModule<object>, 'PAYMENTS_URL');
  } catch (error) {
    for (const subgraph of started.reverse()) await subgraph.stop().catch(() => undefined);
    throw error;
  }
  return {
    accounts,
    risk,
    compliance,
    payments,
    stop: async () => {
      await payments?.stop();
      await compliance.stop();
      await risk.stop();
      await accounts.stop();
    },
  };
}

export function expectOk<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length) throw new Error(`unexpected errors: ${JSON.stringify(response.errors)}`);
  return response.data as T;
}

export { errorCodes };

let counter = 0;
const NAMES = ['Quentin Oakhurst', 'Beatrix Fenwold', 'Cornelius Ashby', 'Delphine Marrow', 'Evander Thistle', 'Fiora Lindqvist', 'Gideon Harcourt', 'Honora Blackwood'];

/** A customer with KYC granted (default VERIFIED) and one funded account per currency given. */
export async function fundedCustomer(
  stack: PaymentsStack,
  funds: Record<string, string>,
  options: { tier?: string; country?: string } = {},
): Promise<{ customerId: string; accounts: Record<string, string> }> {
  counter++;
  const name = `${NAMES[counter % NAMES.length]} ${String.fromCharCode(65 + (counter % 26))}`;
  const customer = expectOk(
    await signedGraphql(stack.accounts.url, `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, {
      i: { name, email: `c${counter}-${Date.now()}@example.com`, country: options.country ?? 'US' },
    }, operator),
  ) as { createCustomer: { id: string } };
  const customerId = customer.createCustomer.id;
  expectOk(
    await signedGraphql(stack.compliance.url, `mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier status } }`, {
      i: { customerId, tier: options.tier ?? 'VERIFIED' },
    }, operator),
  );
  const accounts: Record<string, string> = {};
  for (const [currency, amount] of Object.entries(funds)) {
    const opened = expectOk(
      await signedGraphql(stack.accounts.url, `mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }`, { i: { customerId, currency } }, operator),
    ) as { openAccount: { id: string } };
    accounts[currency] = opened.openAccount.id;
    if (amount !== '0') {
      expectOk(
        await signedGraphql(stack.accounts.url, `mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }`, {
          i: { accountId: opened.openAccount.id, amount: { amount, currency }, idempotencyKey: `dep-${opened.openAccount.id}` },
        }, operator),
      );
    }
  }
  return { customerId, accounts };
}

export async function ledgerOf(stack: PaymentsStack, accountId: string, identity: Identity = operator) {
  const data = expectOk(
    await signedGraphql(stack.accounts.url, `query($id: ID!) { account(id: $id) { balance { amount minorUnits }
      ledger(first: 100) { edges { node { direction amount { amount } paymentId } } } } }`, { id: accountId }, identity),
  ) as { account: { balance: { amount: string; minorUnits: string }; ledger: { edges: { node: { direction: string; amount: { amount: string }; paymentId: string | null } }[] } } };
  return { balance: data.account.balance.amount, entries: data.account.ledger.edges.map((e) => e.node) };
}
