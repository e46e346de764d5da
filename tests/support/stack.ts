import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../runtime/config';
import { ALL_SCOPES, signDevToken } from '../../runtime/dev-token';
import { graphqlRequest, type GraphQLResult } from '../../scripts/gateway-client';
import { launchStack, type RunningStack } from '../../scripts/stack';

// Ports this test process has handed out: the OS may offer a just-probed port again, and two
// services of one stack given the same port would answer for each other.
const handedOut = new Set<number>();

/** A port nobody listens on right now (the OS picks it), never the same one twice in a test run. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: picked } = server.address() as { port: number };
        server.close(() => resolve(picked));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export interface TestStack extends RunningStack {
  readonly dbPrefix: string;
  /** A token with every scope: the operator of the tests. */
  readonly operatorToken: string;
  /** A request through the gateway, with the operator's token unless given another, or `null` for none. */
  graphql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResult<T>>;
  /** The same request's `data`; an answer with errors (or without data) throws them. */
  data<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<T>;
}

/**
 * The one helper that starts the whole graph for an end-to-end test: four subgraph processes
 * and a gateway process on free ports, on the run's embedded database, with databases of
 * their own (a unique prefix) so test files never share data. `mongoUri` points it at
 * another database (a resilience test restarting its own).
 */
export async function startTestStack(env: Record<string, string> = {}, options: { stdio?: 'inherit' | 'pipe'; mongoUri?: string } = {}): Promise<TestStack> {
  const dbPrefix = `e${randomBytes(4).toString('hex')}_`;
  const subgraphPorts = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphPorts[name] = await freePort();
  const stack = await launchStack({
    mongoUri: options.mongoUri ?? process.env.MONGODB_URI,
    gatewayPort: await freePort(),
    subgraphPorts,
    env: { MONGODB_DB_PREFIX: dbPrefix, RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000', LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', NODE_ENV: 'test', ...env },
    // 'pipe' lets a test read the processes' log lines (stack.processes.get(name).stdout).
    stdio: options.stdio ?? 'inherit',
  });
  const operatorToken = await signDevToken({ sub: 'test-operator', scope: ALL_SCOPES });
  const graphql: TestStack['graphql'] = (query, variables = {}, token = operatorToken) => graphqlRequest(stack.gatewayUrl, query, variables, token ?? undefined);
  return {
    ...stack,
    dbPrefix,
    operatorToken,
    graphql,
    data: async <T,>(query: string, variables?: Record<string, unknown>, token?: string | null) => {
      const result = await graphql<T>(query, variables, token);
      if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors, null, 2));
      return result.data;
    },
  };
}

/**
 * A new customer with a KYC tier and one USD account, funded with `deposit` unless it is zero,
 * made through the stack's gateway with the operator's token: the account id.
 */
export async function openCustomerAccount(stack: TestStack, name: string, deposit: string, tier: string): Promise<string> {
  const { createCustomer } = await stack.data('mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }', {
    i: { name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.com`, country: 'US' },
  });
  await stack.data('mutation($i: SubmitKycInput!) { submitKyc(input: $i) { tier } }', { i: { customerId: createCustomer.id, tier } });
  const { openAccount } = await stack.data('mutation($i: OpenAccountInput!) { openAccount(input: $i) { id } }', { i: { customerId: createCustomer.id, currency: 'USD' } });
  if (!/^0+(\.0+)?$/.test(deposit)) {
    await stack.data('mutation($i: DepositFundsInput!) { depositFunds(input: $i) { id } }', { i: { accountId: openAccount.id, amount: { amount: deposit, currency: 'USD' }, idempotencyKey: `fund-${openAccount.id}` } });
  }
  return openAccount.id;
}
