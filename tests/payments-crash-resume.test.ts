import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { isolateDatabases } from './support/database';
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
