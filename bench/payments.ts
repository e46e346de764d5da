import { parseArgs } from 'node:util';
import { fundedAccount, graphqlRequest, percentile, runClosedLoop, startBenchStack } from './support';

/**
 * Settled payments per second end to end through the gateway (`npm run bench:payments`):
 * 20 concurrent clients paying between 20 accounts, then the same with every payment paying
 * into one hot account. Prints figures; asserts nothing.
 */
const CREATE = 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { payments: { type: 'string', default: '300' }, clients: { type: 'string', default: '20' } } });
  const count = Number(values.payments);
  const clients = Number(values.clients);
  const stack = await startBenchStack();
  try {
    const accounts: string[] = [];
    for (let i = 0; i < 21; i++) accounts.push(await fundedAccount(stack.gatewayUrl, stack.token, `Bench Payer ${i}`, '1000000.00'));
    const hot = accounts.pop()!;

    for (const scenario of ['spread', 'hot account'] as const) {
      const statuses = new Map<string, number>();
      const started = performance.now();
      const latencies = await runClosedLoop(count, clients, async (i) => {
        const source = accounts[i % accounts.length];
        const destination = scenario === 'hot account' ? hot : accounts[(i + 1 + (i % 7)) % accounts.length];
        const result = await graphqlRequest(stack.gatewayUrl, CREATE, {
          i: { idempotencyKey: `${scenario.replace(" ", "-")}-${i}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: `${1 + (i % 50)}.${String(i % 100).padStart(2, '0')}`, currency: 'USD' } },
        }, stack.token);
        const status = result.errors?.[0]?.extensions?.code ?? result.data?.createPayment.status ?? 'NO_DATA';
        if (result.errors && !statuses.has(status)) console.error(`${scenario}: ${status}: ${result.errors[0].message}`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      const seconds = (performance.now() - started) / 1000;
      const settled = statuses.get('SETTLED') ?? 0;
      console.log(
        `${scenario.padEnd(12)} ${count} payments, ${clients} clients: ${(settled / seconds).toFixed(1)} settled/s, ` +
          `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, outcomes ${JSON.stringify(Object.fromEntries(statuses))}`,
      );
    }
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
