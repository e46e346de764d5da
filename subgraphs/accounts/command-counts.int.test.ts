import { isolateDatabases } from '../../tests/support/database';
import { commandNames, commandsOf as commandsSent } from '../../tests/support/commands';
import { operator, signedGraphql } from '../../tests/support/signed-client';
import { databaseName } from '../../runtime/mongo';
import { serviceIdentity, type Identity } from '../../runtime/identity';
import { startSubgraph, type StartedSubgraph } from '../../runtime/subgraph-main';
import { newId } from './ids';
import { accountsSubgraph } from './index';

isolateDatabases();
// Batches read by `_id` with one `$in`, as on MongoDB (and our embedded build's `auto`).
process.env.MONGODB_ID_READS = 'in';

/**
 * Database commands per call on a warm process: what a settled payment costs this subgraph.
 * Exact counts, because they are a deterministic property of the code, not a timing.
 */
let subgraph: StartedSubgraph;
const payments = serviceIdentity('payments');

beforeAll(async () => {
  subgraph = await startSubgraph(accountsSubgraph, { port: 0 });
});
afterAll(async () => {
  await subgraph?.stop();
});

const call = (query: string, variables: Record<string, unknown>, identity: Identity = operator) => signedGraphql(subgraph.url, query, variables, identity);

const POST_TRANSFER = `mutation($input: PostTransferInput!) { postTransfer(input: $input) { transferId debitEntryId creditEntryId } }`;

async function fundedAccount(deposit?: string): Promise<string> {
  const created = await call(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
    input: { name: 'Count Tester', email: `c${newId('cus')}@example.com`, country: 'NL' },
  });
  const opened = await call(`mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }`, {
    input: { customerId: created.data!.createCustomer.id, currency: 'USD' },
  });
  const accountId = opened.data!.openAccount.id as string;
  if (deposit) {
    const deposited = await call(`mutation($input: DepositFundsInput!) { depositFunds(input: $input) { id } }`, {
      input: { accountId, amount: { amount: deposit, currency: 'USD' }, idempotencyKey: `seed-${accountId}` },
    });
    expect(deposited.errors).toBeUndefined();
  }
  return accountId;
}

/** The commands `work` sends to the accounts database, by name. */
async function commandsOf(work: () => Promise<unknown>): Promise<string[]> {
  return commandNames(await commandsSent(subgraph.mongo.client, databaseName('accounts'), work)).sort();
}

async function transfer(transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: string) {
  const response = await call(POST_TRANSFER, { input: { transferId, debitAccountId, creditAccountId, amountMinor, currency: 'USD' } }, payments);
  expect(response.errors).toBeUndefined();
  return response;
}

describe('database commands per call', () => {
  it('postTransfer on a warm process: the accounts read and one insert of both legs', async () => {
    const from = await fundedAccount('100.00');
    const to = await fundedAccount();
    await transfer(`warm-${from}`, from, to, '100');
    expect(await commandsOf(() => transfer(`count-${from}`, from, to, '250'))).toEqual(['find', 'insert']);
  });

  it('postTransfer to an account this process has not posted to: one more read, of the positions it does not remember', async () => {
    const from = await fundedAccount('100.00');
    const to = await fundedAccount();
    const other = await fundedAccount('1.00');
    // `to` is cold; `from` and `other` are warm from their deposits.
    expect(await commandsOf(() => transfer(`cold-${to}`, other, to, '50'))).toEqual(['find', 'find', 'insert']);
    expect(await commandsOf(() => transfer(`warm-${to}`, from, to, '50'))).toEqual(['find', 'insert']);
  });

  it('accountFacts without balanceMinor: accounts and customers, one read each', async () => {
    const ids = await Promise.all([fundedAccount('1.00'), fundedAccount(), fundedAccount('2.00')]);
    const query = `query($ids: [ID!]!) { accountFacts(ids: $ids) { id customerId customerName customerCountry currency status createdAt } }`;
    let response: Awaited<ReturnType<typeof call>> | undefined;
    expect(await commandsOf(async () => (response = await call(query, { ids }, payments)))).toEqual(['find', 'find']);
    expect(response!.errors).toBeUndefined();
    expect(response!.data!.accountFacts.map((fact: { id: string }) => fact.id)).toEqual(ids);
  });

  it('accountFacts with balanceMinor: one more read, for every balance at once', async () => {
    const ids = await Promise.all([fundedAccount('1.00'), fundedAccount(), fundedAccount('2.00')]);
    const query = `query($ids: [ID!]!) { accountFacts(ids: $ids) { id balanceMinor } }`;
    let response: Awaited<ReturnType<typeof call>> | undefined;
    expect(await commandsOf(async () => (response = await call(query, { ids }, payments)))).toEqual(['aggregate', 'find', 'find']);
    expect(response!.data!.accountFacts).toEqual([
      { id: ids[0], balanceMinor: '100' },
      { id: ids[1], balanceMinor: '0' },
      { id: ids[2], balanceMinor: '200' },
    ]);
  });
});
