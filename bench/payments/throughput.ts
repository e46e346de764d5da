import { perRequest, snapshot } from '../gateways/cpu';
import { percentile, runClosedLoop, type LoopLimit } from '../support';
import { sendPayment, type PaymentPlan } from './create-payment';
import { untilIdle } from './idle';
import { Outcomes } from './outcomes';

/** One cell: createPayment in a closed loop at one client count. */
export interface CellResult {
  clients: number;
  /** Payments answered (every outcome). */
  payments: number;
  settled: number;
  /** From the first payment sent to the last answer. */
  seconds: number;
  settledPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  outcomes: Outcomes;
  /** CPU ms per settled payment by process, the work left behind until the processes were idle included. */
  cpuMsPerSettled: Record<string, number>;
}

export async function measureCell(options: {
  gatewayUrl: string;
  token: string;
  plan: PaymentPlan;
  clients: number;
  limit: LoopLimit;
  pids: Record<string, number | undefined>;
}): Promise<CellResult> {
  const outcomes = new Outcomes();
  await untilIdle(options.pids);
  const cpuBefore = snapshot(options.pids);
  const started = performance.now();
  let lastAnswer = started;
  const latencies = await runClosedLoop(options.limit, options.clients, async () => {
    const { code, message } = await sendPayment(options.gatewayUrl, options.token, options.plan.nextInput());
    lastAnswer = performance.now();
    outcomes.add(code, message);
  });
  const seconds = (lastAnswer - started) / 1000;
  await untilIdle(options.pids);
  const settled = outcomes.count('SETTLED');
  return {
    clients: options.clients,
    payments: outcomes.total,
    settled,
    seconds,
    settledPerSecond: seconds > 0 ? settled / seconds : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    outcomes,
    cpuMsPerSettled: perRequest(cpuBefore, snapshot(options.pids), settled),
  };
}
