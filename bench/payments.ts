import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startAuditor, type AuditorProcess } from './payments/auditor';
import { runBurst } from './payments/burst';
import { countCommands, countersAround } from './payments/command-count';
import { PaymentPlan, sendPayment } from './payments/create-payment';
import { untilIdle } from './payments/idle';
import { measureRawInserts } from './payments/raw-inserts';
import { formatReport, rawRateFor, writeReport, type PaymentsReport } from './payments/report';
import { measureCell } from './payments/throughput';
import { runWithSubscriptions } from './payments/with-subscriptions';
import { fundedAccount, runClosedLoop, stackPids, startBenchStack, type BenchStack, type LoopLimit } from './support';

/**
 * `npm run bench:payments`: settled payments end to end through the gateway, on the embedded
 * store (or MONGODB_URI), in one run:
 *   - settled payments per second in a closed loop at each --clients count, with p50/p99 and
 *     every outcome by code, and CPU ms per settled payment by process;
 *   - database commands per settled payment by subgraph: exactly over payments sent one at a
 *     time without the compliance auditor, about with it, and under load in each cell;
 *   - the store's raw single-document insert rate, measured on the same store, so the payment
 *     rate reads as a fraction of what the store can do at all;
 *   - with --burst, a burst of createPayment with balance reads beside it;
 *   - with --with-subscriptions, payments at a fixed rate while subscribers follow the account.
 * Prints tables and writes bench/results/payments.json. Asserts nothing.
 *
 *   npx tsx bench/payments.ts --clients 1,20 --payments 20
 *   npx tsx bench/payments.ts --clients 1 --payments 10 --burst --burst-size 30
 */
const AUDITOR_PORT = 4105;

const OPTIONS = {
  // Closed-loop client counts, one cell each (0 alone: no cells).
  clients: { type: 'string', default: '1,20,100' },
  // Payments per cell; --seconds instead bounds each cell by time.
  payments: { type: 'string', default: '300' },
  seconds: { type: 'string' },
  // Funded accounts the cells pay between (more accounts, fewer writers on one ledger).
  accounts: { type: 'string', default: '40' },
  // Every cell's payments into one account: the ledger's hot spot.
  hot: { type: 'boolean', default: false },
  // Unmeasured payments first (plans, JIT, pools), at up to 5 clients.
  'warm-up': { type: 'string', default: '20' },
  // Payments sent one at a time for the command counts.
  'count-payments': { type: 'string', default: '10' },
  // The compliance auditor during cells, burst and subscriptions: on (as deployed) or off.
  auditor: { type: 'string', default: 'on' },
  'audit-poll-ms': { type: 'string', default: '1000' },
  // Concurrent writers of the raw insert measurement, and its seconds per writer count.
  'insert-writers': { type: 'string', default: '1,20' },
  'insert-seconds': { type: 'string', default: '5' },
  burst: { type: 'boolean', default: false },
  'burst-size': { type: 'string', default: '200' },
  'read-every-ms': { type: 'string', default: '50' },
  'with-subscriptions': { type: 'boolean', default: false },
  subscribers: { type: 'string', default: '1000' },
  'subscription-rate': { type: 'string', default: '10' },
  'subscription-seconds': { type: 'string', default: '20' },
} as const;

const list = (value: string) => value.split(',').map(Number).filter((n) => n > 0);

/** Funded accounts, a few at a time. */
async function fundAccounts(stack: BenchStack, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < names.length; i += 4) {
    ids.push(...(await Promise.all(names.slice(i, i + 4).map((name) => fundedAccount(stack.gatewayUrl, stack.token, name, '1000000.00')))));
  }
  return ids;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS });
  const clientCounts = list(values.clients);
  const limit: LoopLimit = values.seconds ? { seconds: Number(values.seconds) } : { count: Number(values.payments) };
  const auditorOn = values.auditor !== 'off';
  const pollMs = Number(values['audit-poll-ms']);
  const runId = randomUUID().slice(0, 8);
  // A prefix of the run's own: on MONGODB_URI, runs do not meet in one database.
  const dbPrefix = `benchpay_${runId}_`;
  const env: Record<string, string> = {
    MONGODB_DB_PREFIX: dbPrefix,
    // The auditor runs as a process of its own (bench/payments/auditor.ts), to be switched and counted apart.
    COMPLIANCE_AUDIT_POLL_MS: '0',
    // The resume sweep is periodic, not per payment: at start only, so the counts are exact.
    PAYGRAPH_RESUME_INTERVAL_MS: '0',
  };
  const started = Date.now();
  const stack = await startBenchStack(env);
  let auditor: AuditorProcess | undefined;
  const stopAll = async () => {
    await auditor?.stop();
    await stack.stop();
  };
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));
  try {
    const pids = () => ({ ...stackPids(stack), ...(auditor ? { auditor: auditor.pid } : {}) });
    const accountCount = Math.max(2, Number(values.accounts));
    const accounts = await fundAccounts(stack, Array.from({ length: accountCount + (values.hot ? 1 : 0) }, (_, i) => `Bench Payer ${i}`));
    const hot = values.hot ? accounts.pop() : undefined;
    console.log(`stack ready, ${accounts.length} accounts funded in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    const warmUp = new PaymentPlan(accounts, `${runId}-warm`);
    const warmUpCount = Number(values['warm-up']);
    if (warmUpCount > 0) await runClosedLoop(warmUpCount, Math.min(5, warmUpCount), async () => void (await sendPayment(stack.gatewayUrl, stack.token, warmUp.nextInput())));

    const samples = Math.max(1, Number(values['count-payments']));
    const auditorOff = await countCommands({ stack, dbPrefix, plan: new PaymentPlan(accounts, `${runId}-count`), samples, pids: pids() });
    console.log(`commands per payment, auditor off: ${auditorOff.perPayment.total.toFixed(1)} (${auditorOff.outcomes})`);
    auditor = await startAuditor(stack, { port: AUDITOR_PORT, pollMs, dbPrefix, env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'error', ...env } });
    // It audits everything before it first: caught up once the processes are idle.
    await untilIdle(pids(), { maxMs: 120_000 });
    const auditorOnCount = await countCommands({ stack, dbPrefix, plan: new PaymentPlan(accounts, `${runId}-count-audited`), samples, pids: pids(), auditor: { process: auditor, pollMs } });
    console.log(`commands per payment, auditor on: about ${auditorOnCount.perPayment.total.toFixed(1)} (${auditorOnCount.outcomes})`);
    if (!auditorOn) {
      await auditor.stop();
      auditor = undefined;
    }

    const report: PaymentsReport = {
      startedAt: new Date(started).toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      store: process.env.MONGODB_URI ? 'MONGODB_URI' : 'embedded FerretDB',
      options: { ...values, accounts: accounts.length },
      auditor: { on: auditorOn, pollMs },
      commands: { auditorOff, auditorOn: auditorOnCount },
      cells: [],
    };
    for (const clients of clientCounts) {
      await untilIdle(pids());
      const plan = new PaymentPlan(accounts, `${runId}-c${clients}`, hot);
      const { result, delta } = await countersAround(stack, dbPrefix, auditor, () => measureCell({ gatewayUrl: stack.gatewayUrl, token: stack.token, plan, clients, limit, pids: pids() }));
      report.cells.push({ ...result, dbCommandsPerSettled: delta(result.settled), rawInsertsPerSecond: null, fractionOfRawInserts: null });
      console.log(`${clients} clients: ${result.settledPerSecond.toFixed(1)} settled/s, p50 ${result.p50Ms.toFixed(0)} ms, p99 ${result.p99Ms.toFixed(0)} ms, outcomes ${result.outcomes}`);
    }

    const writers = list(values['insert-writers']);
    if (writers.length > 0) {
      report.rawInserts = await measureRawInserts({ mongoUri: stack.mongoUri, dbPrefix, writers, limit: { seconds: Number(values['insert-seconds']) }, dbPid: stack.dbPid, pids: pids() });
      for (const cell of report.cells) {
        cell.rawInsertsPerSecond = rawRateFor(report.rawInserts, cell.clients);
        cell.fractionOfRawInserts = cell.rawInsertsPerSecond ? cell.settledPerSecond / cell.rawInsertsPerSecond : null;
      }
      console.log(`raw inserts: ${report.rawInserts.results.map((r) => `${r.insertsPerSecond.toFixed(0)}/s at ${r.writers} writers`).join(', ')}`);
    }

    if (values.burst) {
      await untilIdle(pids());
      const plan = new PaymentPlan(accounts, `${runId}-burst`, hot);
      report.burst = await runBurst({ gatewayUrl: stack.gatewayUrl, token: stack.token, plan, size: Number(values['burst-size']), readAccountId: accounts[0], readEveryMs: Number(values['read-every-ms']) });
      console.log(`burst: ${report.burst.outcomes} in ${report.burst.seconds.toFixed(1)} s`);
    }

    if (values['with-subscriptions']) {
      await untilIdle(pids());
      const [followed, other] = await fundAccounts(stack, ['Bench Followed', 'Bench Counterparty']);
      report.subscriptions = await runWithSubscriptions({
        gatewayUrl: stack.gatewayUrl,
        token: stack.token,
        followedAccountId: followed,
        plan: new PaymentPlan([followed, other], `${runId}-subscribed`),
        subscribers: Number(values.subscribers),
        paymentsPerSecond: Number(values['subscription-rate']),
        seconds: Number(values['subscription-seconds']),
      });
    }

    console.log(`\n${formatReport(report)}\n`);
    console.log(`wrote ${writeReport(report, join(__dirname, 'results'))}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
