import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { databaseName } from '../runtime/mongo';
import { isolateDatabases } from './support/database';
import { serviceIdentity } from '../runtime/identity';
import { operator, signedGraphql } from './support/signed-client';
import { expectOk, fundedCustomer, ledgerOf, startStack, type PaymentsStack } from './support/in-process-stack';

/**
 * Kills the payments process right after a saga step is persisted (test-only fault injection,
 * PAYGRAPH_CRASH_AFTER_STEP), starts it again, and checks the payment completes exactly once.
 */
isolateDatabases();

let stack: PaymentsStack;
const children: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ withPayments: false });
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null) child.kill('SIGKILL');
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  await stack?.stop();
});

function startPayments(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  // The process itself, not an npx → tsx chain: a signal to a wrapper left the real process running.
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'subgraphs', 'payments', 'main.ts')], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, PAYMENTS_PORT: '0', LOG_LEVEL: 'info', PAYGRAPH_SAGA_LEASE_MS: '1000', PAYGRAPH_RESUME_INTERVAL_MS: '300', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:\/\/127\.0\.0\.1:\d+\/graphql)"/.exec(output);
      if (match) {
        child.stdout!.off('data', onData);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`payments exited with ${code} before it was ready:\n${output}`)));
  });
}

/** The exit status as a shell reports it: 128 + the signal's number for a process a signal ended. */
function exitOf(child: ChildProcess): Promise<number | null> {
  const status = (code: number | null, signal: NodeJS.Signals | null) => code ?? (signal ? 128 + osConstants.signals[signal] : null);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(status(child.exitCode, child.signalCode));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(status(code, signal))));
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const CREATE = `mutation($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }`;
const BY_ACCOUNT = `query($a: ID) { payments(filter: { accountId: $a }) { edges { node { id status events { status previousStatus cursor } } } } }`;

test.each(['risk', 'compliance', 'debit'])('a crash right after the %s step is resumed and the payment settles exactly once', async (step) => {
  const a = await fundedCustomer(stack, { USD: '200.00' });
  const b = await fundedCustomer(stack, { USD: '0' });
  const input = { idempotencyKey: `crash-${step}-${Date.now()}`, sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '42.00', currency: 'USD' } };

  const doomed = await startPayments({ PAYGRAPH_CRASH_AFTER_STEP: step });
  const attempt = await signedGraphql(doomed.url, CREATE, { input }, operator).catch((error: unknown) => error);
  // The process died mid-request: the call failed (how undici words it varies with the moment
  // the socket dropped), so no GraphQL answer with an HTTP status came back.
  expect(attempt).not.toHaveProperty('status');
  expect(await exitOf(doomed.child)).toBe(137);

  const revived = await startPayments({});
  try {
    type Listed = { payments: { edges: { node: { id: string; status: string; events: { status: string; previousStatus: string | null; cursor: string }[] } }[] } };
    const payment = await waitFor(async () => {
      const listed = expectOk(await signedGraphql(revived.url, BY_ACCOUNT, { a: a.accounts.USD }, operator)) as Listed;
      const node = listed.payments.edges[0]?.node;
      // The status is stored first and its event appended right after: wait for both.
      return node?.status === 'SETTLED' && node.events.some((e) => e.status === 'SETTLED') ? node : undefined;
    });
    expect(payment.events.map((e) => e.status)).toEqual(['PENDING', 'PROCESSING', 'SETTLED']);
    expect(new Set(payment.events.map((e) => e.cursor)).size).toBe(3);

    // Re-sending the request returns the same payment; nothing moves twice.
    const again = expectOk(await signedGraphql(revived.url, CREATE, { input }, operator)) as { createPayment: { id: string; status: string } };
    expect(again.createPayment).toEqual({ id: payment.id, status: 'SETTLED' });
    const listed = expectOk(await signedGraphql(revived.url, BY_ACCOUNT, { a: a.accounts.USD }, operator)) as Listed;
    expect(listed.payments.edges).toHaveLength(1);

    const source = await ledgerOf(stack, a.accounts.USD);
    const destination = await ledgerOf(stack, b.accounts.USD);
    const entries = [...source.entries, ...destination.entries].filter((e) => e.paymentId === payment.id);
    expect(entries.map((e) => `${e.direction} ${e.amount.amount}`).sort()).toEqual(['CREDIT 42.00', 'DEBIT 42.00']);
    expect(source.balance).toBe('158.00');
    expect(destination.balance).toBe('42.00');
  } finally {
    revived.child.kill('SIGTERM');
    await exitOf(revived.child);
  }
});

// ---- two-phase payments (holds) ----

const AUTHORIZE = `mutation($input: AuthorizePaymentInput!) { authorizePayment(input: $input) { id status } }`;
const CAPTURE = `mutation($id: ID!, $amount: MoneyInput) { capturePayment(id: $id, amount: $amount) { id status } }`;
const HOLD_BALANCES = `query($id: ID!) { account(id: $id) { balance { amount } availableBalance { amount } pendingBalance { amount } } }`;

async function holdBalances(accountId: string): Promise<string[]> {
  const { account } = expectOk(await signedGraphql(stack.accounts.url, HOLD_BALANCES, { id: accountId }, operator)) as {
    account: { balance: { amount: string }; availableBalance: { amount: string }; pendingBalance: { amount: string } };
  };
  return [account.balance.amount, account.availableBalance.amount, account.pendingBalance.amount];
}

async function statusOf(url: string, id: string, status: string): Promise<{ status: string; events: { status: string }[] } | undefined> {
  const { payment } = expectOk(await signedGraphql(url, 'query($id: ID!) { payment(id: $id) { status events { status } } }', { id }, operator)) as {
    payment: { status: string; events: { status: string }[] };
  };
  return payment.status === status && payment.events.some((e) => e.status === status) ? payment : undefined;
}

/**
 * Killed right after the ledger placed the hold (AUTHORIZED not written): the resumer asks
 * again, the ledger answers with the same hold, and the amount is held once. Then killed right
 * after the ledger posted a partial capture (SETTLED not written): the sweeper finishes the
 * committed capture, and the debit, the credit and the release happen once.
 */
test('a crash after placing a hold, and one after capturing it, are resumed to one hold and one capture', async () => {
  const a = await fundedCustomer(stack, { USD: '200.00' });
  const b = await fundedCustomer(stack, { USD: '0' });
  const input = { idempotencyKey: `crash-hold-${Date.now()}`, sourceAccountId: a.accounts.USD, destinationAccountId: b.accounts.USD, amount: { amount: '60.00', currency: 'USD' } };

  const doomed = await startPayments({ PAYGRAPH_CRASH_AFTER_STEP: 'hold' });
  expect(await signedGraphql(doomed.url, AUTHORIZE, { input }, operator).catch((error: unknown) => error)).not.toHaveProperty('status');
  expect(await exitOf(doomed.child)).toBe(137);
  expect(await holdBalances(a.accounts.USD)).toEqual(['200.00', '140.00', '60.00']);

  const revived = await startPayments({ PAYGRAPH_CRASH_AFTER_STEP: 'capture', PAYGRAPH_HOLD_SWEEP_INTERVAL_MS: '300', PAYGRAPH_HOLD_SWEEP_LEASE_MS: '1000' });
  const { payments } = expectOk(await signedGraphql(revived.url, BY_ACCOUNT, { a: a.accounts.USD }, operator)) as { payments: { edges: { node: { id: string } }[] } };
  const id = payments.edges[0].node.id;
  const authorized = await waitFor(() => statusOf(revived.url, id, 'AUTHORIZED'));
  expect(authorized.events.map((e) => e.status)).toEqual(['PENDING', 'PROCESSING', 'AUTHORIZED']);
  const again = expectOk(await signedGraphql(revived.url, AUTHORIZE, { input }, operator)) as { authorizePayment: { id: string; status: string } };
  expect(again.authorizePayment).toEqual({ id, status: 'AUTHORIZED' });
  expect(await holdBalances(a.accounts.USD)).toEqual(['200.00', '140.00', '60.00']);

  // This process dies right after the ledger answers the capture.
  const capture = { id, amount: { amount: '25.00', currency: 'USD' } };
  expect(await signedGraphql(revived.url, CAPTURE, capture, operator).catch((error: unknown) => error)).not.toHaveProperty('status');
  expect(await exitOf(revived.child)).toBe(137);
  expect(await holdBalances(a.accounts.USD)).toEqual(['175.00', '175.00', '0.00']);

  const healed = await startPayments({ PAYGRAPH_HOLD_SWEEP_INTERVAL_MS: '300', PAYGRAPH_HOLD_SWEEP_LEASE_MS: '1000' });
  try {
    const settled = await waitFor(() => statusOf(healed.url, id, 'SETTLED'));
    expect(settled.events.map((e) => e.status)).toEqual(['PENDING', 'PROCESSING', 'AUTHORIZED', 'SETTLED']);
    const repeated = expectOk(await signedGraphql(healed.url, CAPTURE, capture, operator)) as { capturePayment: { id: string; status: string } };
    expect(repeated.capturePayment).toEqual({ id, status: 'SETTLED' });
    expect(await holdBalances(a.accounts.USD)).toEqual(['175.00', '175.00', '0.00']);
    const source = await ledgerOf(stack, a.accounts.USD);
    const destination = await ledgerOf(stack, b.accounts.USD);
    expect([...source.entries, ...destination.entries].filter((e) => e.paymentId === id).map((e) => `${e.direction} ${e.amount.amount}`).sort()).toEqual(['CREDIT 25.00', 'DEBIT 25.00']);
    expect(destination.balance).toBe('25.00');
  } finally {
    healed.child.kill('SIGTERM');
    await exitOf(healed.child);
  }
});

/**
 * A cross-currency transfer is two ledger transfers (`<id>:fx-in`, `<id>:fx-out`): killed right
 * after the first leg is posted, the resumed saga posts only the second, so each currency's
 * side has exactly its two entries.
 */
test('a crash between the two legs of an FX transfer is resumed to exactly one entry per account', async () => {
  const owner = await fundedCustomer(stack, { USD: '200.00', EUR: '0' });
  const input = { idempotencyKey: `crash-fx-in-${Date.now()}`, sourceAccountId: owner.accounts.USD, destinationAccountId: owner.accounts.EUR, amount: { amount: '42.00', currency: 'USD' } };

  const doomed = await startPayments({ PAYGRAPH_CRASH_AFTER_STEP: 'fx-in' });
  const attempt = await signedGraphql(doomed.url, CREATE, { input }, operator).catch((error: unknown) => error);
  expect(attempt).not.toHaveProperty('status');
  expect(await exitOf(doomed.child)).toBe(137);
  // Dead between the legs: the source is debited, the destination not yet credited.
  expect((await ledgerOf(stack, owner.accounts.USD)).balance).toBe('158.00');
  expect((await ledgerOf(stack, owner.accounts.EUR)).balance).toBe('0.00');

  const revived = await startPayments({});
  try {
    type Listed = { payments: { edges: { node: { id: string; status: string; events: { status: string }[] } }[] } };
    const payment = await waitFor(async () => {
      const listed = expectOk(await signedGraphql(revived.url, BY_ACCOUNT, { a: owner.accounts.USD }, operator)) as Listed;
      const node = listed.payments.edges[0]?.node;
      return node?.status === 'SETTLED' && node.events.some((e) => e.status === 'SETTLED') ? node : undefined;
    });
    const again = expectOk(await signedGraphql(revived.url, CREATE, { input }, operator)) as { createPayment: { id: string; status: string } };
    expect(again.createPayment).toEqual({ id: payment.id, status: 'SETTLED' });

    // 42.00 USD at 0.92 less the 25 bps spread (0.9177): 38.5434 → 38.54 EUR.
    const house = serviceIdentity('crash-test');
    const houseId = async (currency: string) =>
      (expectOk(await signedGraphql(stack.accounts.url, 'query($c: Currency!) { systemAccountId(purpose: FX_POSITION, currency: $c) }', { c: currency }, house)) as { systemAccountId: string }).systemAccountId;
    const sides = [
      [owner.accounts.USD, operator, ['DEBIT 42.00'], '158.00'],
      [await houseId('USD'), house, ['CREDIT 42.00'], '42.00'],
      [await houseId('EUR'), house, ['DEBIT 38.54'], '-38.54'],
      [owner.accounts.EUR, operator, ['CREDIT 38.54'], '38.54'],
    ] as const;
    for (const [accountId, identity, legs, balance] of sides) {
      const ledger = await ledgerOf(stack, accountId, identity);
      expect(ledger.entries.filter((e) => e.paymentId === payment.id).map((e) => `${e.direction} ${e.amount.amount}`)).toEqual(legs);
      expect(ledger.balance).toBe(balance);
    }
  } finally {
    revived.child.kill('SIGTERM');
    await exitOf(revived.child);
  }
});

/**
 * The second leg of an FX transfer refused for good (the destination frozen after the first
 * leg) pays the first back and fails the payment. That decision is stored on the payment before
 * the reversal is posted: killed after the reversal and before FAILED, with the destination
 * active again by then, the resumed saga must not post the second leg as well.
 */
test('an FX transfer whose second leg is refused is reversed and FAILED, and a crash after the reversal does not pay the destination too', async () => {
  const owner = await fundedCustomer(stack, { USD: '200.00', EUR: '0' });
  const input = { idempotencyKey: `crash-fx-reversal-${Date.now()}`, sourceAccountId: owner.accounts.USD, destinationAccountId: owner.accounts.EUR, amount: { amount: '42.00', currency: 'USD' } };
  const client = await MongoClient.connect(process.env.MONGODB_URI!);
  const accounts = client.db(databaseName('accounts')).collection<{ _id: string; status: string }>('accounts');
  try {
    const doomed = await startPayments({ PAYGRAPH_CRASH_AFTER_STEP: 'fx-in' });
    await signedGraphql(doomed.url, CREATE, { input }, operator).catch(() => undefined);
    expect(await exitOf(doomed.child)).toBe(137);
    expect((await ledgerOf(stack, owner.accounts.USD)).balance).toBe('158.00');

    await accounts.updateOne({ _id: owner.accounts.EUR }, { $set: { status: 'FROZEN' } });
    const reversing = await startPayments({ PAYGRAPH_CRASH_AFTER_STEP: 'fx-reversal' });
    expect(await exitOf(reversing.child)).toBe(137);
    expect((await ledgerOf(stack, owner.accounts.USD)).balance).toBe('200.00');

    await accounts.updateOne({ _id: owner.accounts.EUR }, { $set: { status: 'ACTIVE' } });
    const revived = await startPayments({});
    try {
      type Listed = { payments: { edges: { node: { id: string; status: string; failureReason: string | null } }[] } };
      const payment = await waitFor(async () => {
        const listed = expectOk(await signedGraphql(revived.url, 'query($a: ID) { payments(filter: { accountId: $a }, first: 1) { edges { node { id status failureReason } } } }', { a: owner.accounts.USD }, operator)) as Listed;
        const node = listed.payments.edges[0]?.node;
        return node?.status === 'FAILED' ? node : undefined;
      });
      expect(payment.failureReason).toMatch(/frozen/i);
      const usd = await ledgerOf(stack, owner.accounts.USD);
      expect(usd.entries.filter((e) => e.paymentId === payment.id).map((e) => `${e.direction} ${e.amount.amount}`)).toEqual(['CREDIT 42.00', 'DEBIT 42.00']);
      expect(usd.balance).toBe('200.00');
      const eur = await ledgerOf(stack, owner.accounts.EUR);
      expect(eur.entries.filter((e) => e.paymentId === payment.id)).toEqual([]);
      expect(eur.balance).toBe('0.00');
    } finally {
      revived.child.kill('SIGTERM');
      await exitOf(revived.child);
    }
  } finally {
    await client.close();
  }
});

/**
 * The group-commit window: many payments share each write (one insert of keys, one of
 * payments, one bulk of status updates, one insert of events, one of ledger entries). A process
 * killed while such batches are in flight must lose no payment it acknowledged, and the
 * resumer must finish the others so that each settles once: two ledger entries, gap-free events.
 */
test('a process killed while group-committed batches are in flight loses no acknowledged payment and posts nothing twice', async () => {
  const payer = await fundedCustomer(stack, { USD: '1000.00' });
  const payees = [await fundedCustomer(stack, { USD: '0' }), await fundedCustomer(stack, { USD: '0' })];
  const inputs = Array.from({ length: 40 }, (_, i) => ({
    idempotencyKey: `batch-crash-${Date.now()}-${i}`,
    sourceAccountId: payer.accounts.USD,
    destinationAccountId: payees[i % 2].accounts.USD,
    amount: { amount: '1.00', currency: 'USD' },
  }));

  const doomed = await startPayments({});
  const acknowledged = new Map<number, { id: string; status: string }>();
  let killed = false;
  await Promise.all(
    inputs.map(async (input, i) => {
      const answer = await signedGraphql(doomed.url, CREATE, { input }, operator).catch(() => undefined);
      const created = (answer?.data as { createPayment?: { id: string; status: string } } | undefined)?.createPayment;
      if (created && !killed) acknowledged.set(i, created);
      // Killed with most of the burst still in its batches.
      if (acknowledged.size >= 8 && !killed) {
        killed = true;
        doomed.child.kill('SIGKILL');
      }
    }),
  );
  await exitOf(doomed.child);
  expect(killed).toBe(true);
  expect(acknowledged.size).toBeLessThan(inputs.length);

  const revived = await startPayments({});
  try {
    // Every request sent again: the same payment for each acknowledged one, and every one settles.
    const settled = new Map<number, string>();
    await waitFor(async () => {
      for (const [i, input] of inputs.entries()) {
        if (settled.has(i)) continue;
        const answer = await signedGraphql(revived.url, CREATE, { input }, operator);
        const created = (answer.data as { createPayment?: { id: string; status: string } } | null)?.createPayment;
        if (created?.status === 'SETTLED') settled.set(i, created.id);
      }
      return settled.size === inputs.length ? true : undefined;
    }, 60_000);
    for (const [i, payment] of acknowledged) {
      expect(settled.get(i)).toBe(payment.id);
      expect(payment.status).toBe('SETTLED');
    }
    expect(new Set(settled.values()).size).toBe(inputs.length);

    const source = await ledgerOf(stack, payer.accounts.USD);
    const credits = [...(await ledgerOf(stack, payees[0].accounts.USD)).entries, ...(await ledgerOf(stack, payees[1].accounts.USD)).entries];
    for (const id of settled.values()) {
      expect(source.entries.filter((e) => e.paymentId === id).map((e) => e.direction)).toEqual(['DEBIT']);
      expect(credits.filter((e) => e.paymentId === id).map((e) => e.direction)).toEqual(['CREDIT']);
    }
    expect(source.balance).toBe('960.00');
    // Each payment's events, in order and once, from the one log.
    type Listed = { payments: { edges: { node: { id: string; events: { status: string; cursor: string }[] } }[] } };
    const listed = expectOk(await signedGraphql(revived.url, `query($a: ID) { payments(filter: { accountId: $a }, first: 100) { edges { node { id events { status cursor } } } } }`, { a: payer.accounts.USD }, operator)) as Listed;
    expect(listed.payments.edges).toHaveLength(inputs.length);
    for (const { node } of listed.payments.edges) expect(node.events.map((e) => e.status)).toEqual(['PENDING', 'PROCESSING', 'SETTLED']);
    const cursors = listed.payments.edges.flatMap(({ node }) => node.events.map((e) => e.cursor));
    expect(new Set(cursors).size).toBe(inputs.length * 3);
  } finally {
    revived.child.kill('SIGTERM');
    await exitOf(revived.child);
  }
}, 120_000);
