import { graphqlRequest, percentile } from '../support';
import { sendPayment, type PaymentPlan } from './create-payment';
import { Outcomes } from './outcomes';

/**
 * A burst: `size` createPayment sent at once, and meanwhile a balance read every
 * `readEveryMs` (sent on the clock, not after the last answer) to see what the burst does to
 * everyone else: how long reads wait behind it and whether they are turned away.
 */
export const BALANCE_READ = 'query BurstRead($id: ID!) { account(id: $id) { id balance { amount } } }';

export interface BurstResult {
  size: number;
  /** From the first payment sent to the last answer. */
  seconds: number;
  outcomes: Outcomes;
  paymentP50Ms: number;
  paymentP99Ms: number;
  reads: number;
  readP50Ms: number;
  readP99Ms: number;
  /** Reads by outcome: OK or the error's code. */
  readOutcomes: Outcomes;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

export async function runBurst(options: { gatewayUrl: string; token: string; plan: PaymentPlan; size: number; readAccountId: string; readEveryMs: number }): Promise<BurstResult> {
  const { gatewayUrl, token } = options;
  const outcomes = new Outcomes();
  const readOutcomes = new Outcomes();
  const readLatencies: number[] = [];
  const reads: Promise<void>[] = [];
  const read = async () => {
    const [outcome, ms] = await timed(async () => {
      try {
        const result = await graphqlRequest(gatewayUrl, BALANCE_READ, { id: options.readAccountId }, token);
        const error = result.errors?.[0];
        return error ? { code: error.extensions?.code ?? `HTTP_${result.status}`, message: error.message } : { code: 'OK' };
      } catch (error) {
        return { code: 'NETWORK_ERROR', message: (error as Error).message };
      }
    });
    readLatencies.push(ms);
    readOutcomes.add(outcome.code, outcome.message);
  };
  const inputs = Array.from({ length: options.size }, () => options.plan.nextInput());
  const started = performance.now();
  const reader = setInterval(() => reads.push(read()), options.readEveryMs);
  reads.push(read());
  const latencies = await Promise.all(
    inputs.map(async (input) => {
      const [{ code, message }, ms] = await timed(() => sendPayment(gatewayUrl, token, input));
      outcomes.add(code, message);
      return ms;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(reader);
  await Promise.all(reads);
  return {
    size: options.size,
    seconds,
    outcomes,
    paymentP50Ms: percentile(latencies, 50),
    paymentP99Ms: percentile(latencies, 99),
    reads: readLatencies.length,
    readP50Ms: percentile(readLatencies, 50),
    readP99Ms: percentile(readLatencies, 99),
    readOutcomes,
  };
}
