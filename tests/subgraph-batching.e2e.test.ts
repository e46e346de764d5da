import { signDevToken } from '../runtime/dev-token';
import { startTestStack, type TestStack } from './support/stack';
import { fundedCustomer } from './subscriptions-support';

/**
 * Batched subgraph fetches (gateway/subgraph-batching.ts), end to end: real gateway and
 * subgraph processes over HTTP. Many concurrent requests of one caller must travel in fewer
 * subgraph requests than fetches, and every client must still get exactly the answer it
 * gets alone; requests of different callers may share a subgraph request, but each is
 * answered as its own caller, so no customer ever sees another's data.
 */
let stack: TestStack;
const owners: { customerId: string; accountId: string }[] = [];

// Two subgraphs: accounts answers the account and its customer, compliance the customer's KYC
// (an `_entities` fetch, merged across requests).
const OWNER = 'query Owner($id: ID!) { account(id: $id) { id currency customer { id name kyc { tier status } } } }';
// One subgraph: the single-fetch path and fast lane, sent as an HTTP batch.
const LOOKUP = 'query Lookup($id: ID!) { account(id: $id) { id status currency } }';

beforeAll(async () => {
  stack = await startTestStack();
  for (let i = 0; i < 6; i++) owners.push(await fundedCustomer(stack.gatewayUrl, stack.operatorToken, `Batch Owner ${i}`));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** The gateway's batch histogram for one subgraph: requests sent and fetches they carried. */
async function batchCounters(subgraph: string): Promise<{ requests: number; fetches: number }> {
  const text = await (await fetch(stack.gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
  const read = (suffix: string) => Number(new RegExp(`^paygraph_subgraph_batch_fetches_${suffix}\\{subgraph="${subgraph}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { requests: read('count'), fetches: read('sum') };
}

async function during(subgraphs: string[], work: () => Promise<void>): Promise<Record<string, { requests: number; fetches: number }>> {
  const before = await Promise.all(subgraphs.map(batchCounters));
  await work();
  const after = await Promise.all(subgraphs.map(batchCounters));
  return Object.fromEntries(subgraphs.map((name, i) => [name, { requests: after[i].requests - before[i].requests, fetches: after[i].fetches - before[i].fetches }]));
}

test('concurrent requests of one caller share subgraph requests, and each gets the answer it gets alone', async () => {
  const ids = Array.from({ length: 48 }, (_, i) => owners[i % owners.length].accountId);
  const alone = new Map<string, unknown>();
  for (const owner of owners) alone.set(owner.accountId, await stack.graphql(OWNER, { id: owner.accountId }));
  expect((alone.get(owners[0].accountId) as { data: { account: { customer: { kyc: { tier: string } } } } }).data.account.customer.kyc.tier).toBe('VERIFIED');

  let answers: unknown[] = [];
  const counted = await during(['accounts', 'compliance'], async () => {
    answers = await Promise.all(ids.map((id) => stack.graphql(OWNER, { id })));
  });
  answers.forEach((answer, i) => expect(answer).toEqual(alone.get(ids[i])));
  // Every request made one fetch of each subgraph; some of those fetches travelled together.
  for (const name of ['accounts', 'compliance']) {
    expect(counted[name].fetches).toBe(ids.length);
    expect(counted[name].requests).toBeLessThan(ids.length);
  }
});

test('single-subgraph queries batch too (the fast lane), each answer its own', async () => {
  await stack.graphql(LOOKUP, { id: owners[0].accountId }); // teaches the fast lane this query
  const ids = Array.from({ length: 48 }, (_, i) => owners[i % owners.length].accountId);
  let answers: unknown[] = [];
  const counted = await during(['accounts'], async () => {
    answers = await Promise.all(ids.map((id) => stack.graphql(LOOKUP, { id })));
  });
  answers.forEach((answer, i) => expect(answer).toEqual({ status: 200, data: { account: { id: ids[i], status: 'ACTIVE', currency: 'USD' } } }));
  expect(counted.accounts.fetches).toBe(ids.length);
  expect(counted.accounts.requests).toBeLessThan(ids.length);
});

test("callers batched together are each answered as themselves: a customer sees only its own data, even in a batch with another's", async () => {
  const [alice, bob] = owners;
  const tokenOf = async (owner: { customerId: string }) => signDevToken({ sub: `customer-${owner.customerId}`, scope: 'accounts:read payments:read', customerId: owner.customerId });
  const tokens = { alice: await tokenOf(alice), bob: await tokenOf(bob) };
  // Interleaved: each asks for its own account, and now and then for the other's.
  const requests = Array.from({ length: 60 }, (_, i) => {
    const asker = i % 2 === 0 ? 'alice' : 'bob';
    const own = asker === 'alice' ? alice : bob;
    const other = asker === 'alice' ? bob : alice;
    return { asker, own, target: i % 5 === 4 ? other : own };
  });
  let answers: Awaited<ReturnType<TestStack['graphql']>>[] = [];
  const counted = await during(['accounts'], async () => {
    answers = await Promise.all(requests.map(({ asker, target }) => stack.graphql(OWNER, { id: target.accountId }, tokens[asker as 'alice' | 'bob'])));
  });
  // Their fetches did travel together.
  expect(counted.accounts.requests).toBeLessThan(counted.accounts.fetches);
  answers.forEach((answer, i) => {
    const { own, target } = requests[i];
    const account = (answer.data as { account: { id: string; customer: { id: string } } | null } | undefined)?.account;
    if (target === own) {
      expect(answer.errors).toBeUndefined();
      expect(account?.customer.id).toBe(own.customerId);
    } else {
      // Another customer's account: refused, never shown.
      expect(account ?? null).toBeNull();
      expect(JSON.stringify(answer)).not.toContain(target.customerId);
    }
  });
});
