import { SUBGRAPH_NAMES } from '../../runtime/config';
import { dbCommands, type BenchStack } from '../support';
import type { AuditorProcess } from './auditor';
import { sendPayment, type PaymentPlan } from './create-payment';
import { untilIdle } from './idle';
import { Outcomes } from './outcomes';

/** Database commands per payment, by subgraph and in total, over payments sent one at a time. */
export interface CommandCount {
  payments: number;
  outcomes: Outcomes;
  /** accounts, payments, risk, compliance (the auditor's commands included when it ran) and total. */
  perPayment: Record<string, number>;
  /** Commands per second by subgraph while nothing was sent, measured before the sample and subtracted over its duration. */
  idlePerSecond: Record<string, number>;
  /** True where idle commands were subtracted (the auditor polls): the figure is then within about one poll's commands over the sample. */
  approximate: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readCounters(stack: BenchStack, dbPrefix: string, auditor?: AuditorProcess): Promise<Record<string, number>> {
  const counts: Record<string, number> = { ...(await dbCommands(stack.subgraphUrls, dbPrefix)) };
  if (auditor) counts.compliance += await auditor.dbCommands();
  return counts;
}

function perPayment(before: Record<string, number>, after: Record<string, number>, payments: number, idle: Record<string, number> = {}, seconds = 0): Record<string, number> {
  const result: Record<string, number> = {};
  let total = 0;
  for (const name of SUBGRAPH_NAMES) {
    result[name] = Math.max(0, after[name] - before[name] - (idle[name] ?? 0) * seconds) / payments;
    total += result[name];
  }
  result.total = total;
  return result;
}

/**
 * Without an auditor the count is exact: nothing else in the stack sends commands between
 * the counter reads (the payments resume sweep runs only at start in this benchmark), which
 * an idle window before the sample checks. With one, the auditor polls whether or not
 * anything happened: its idle rate is subtracted over the sample's duration, and the sample
 * waits for it to catch up.
 */
export async function countCommands(options: {
  stack: BenchStack;
  dbPrefix: string;
  plan: PaymentPlan;
  samples: number;
  pids: Record<string, number | undefined>;
  auditor?: { process: AuditorProcess; pollMs: number };
}): Promise<CommandCount> {
  const { stack, dbPrefix, plan, samples } = options;
  const auditor = options.auditor?.process;
  const pollMs = options.auditor?.pollMs ?? 0;
  await untilIdle(options.pids);
  // Five polls' worth with an auditor: a poll more or less in the window is a fifth of the rate.
  const idleMs = auditor ? 5 * pollMs : 2000;
  const idleStart = await readCounters(stack, dbPrefix, auditor);
  await sleep(idleMs);
  const idleEnd = await readCounters(stack, dbPrefix, auditor);
  const idle = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, (idleEnd[name] - idleStart[name]) / (idleMs / 1000)]));
  const quiet = Object.values(idle).every((rate) => rate === 0);
  const outcomes = new Outcomes();
  const started = performance.now();
  const before = await readCounters(stack, dbPrefix, auditor);
  for (let i = 0; i < samples; i++) {
    const { code, message } = await sendPayment(stack.gatewayUrl, stack.token, plan.nextInput());
    outcomes.add(code, message);
  }
  if (auditor) {
    // Two polls: the one under way when the last payment settled may have missed its events.
    await sleep(2 * pollMs);
    await untilIdle(options.pids);
  }
  const after = await readCounters(stack, dbPrefix, auditor);
  const seconds = (performance.now() - started) / 1000;
  return { payments: samples, outcomes, perPayment: perPayment(before, after, samples, idle, seconds), idlePerSecond: idle, approximate: !quiet };
}

/** Commands per settled payment under load, from counters read around a cell (auditor included when it ran). */
export async function countersAround<T>(stack: BenchStack, dbPrefix: string, auditor: AuditorProcess | undefined, run: () => Promise<T>): Promise<{ result: T; delta: (payments: number) => Record<string, number> }> {
  const before = await readCounters(stack, dbPrefix, auditor);
  const result = await run();
  const after = await readCounters(stack, dbPrefix, auditor);
  return { result, delta: (payments) => (payments > 0 ? perPayment(before, after, payments) : {}) };
}
