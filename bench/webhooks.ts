import { createServer, type Server } from 'node:http';
import { verifySignature } from '../subgraphs/payments/webhooks/signer';
import { envInt } from '../runtime/config';
import { graphqlData } from '../scripts/gateway-client';
import { fundedAccount, percentile, startBenchStack } from './support';

/**
 * Webhook delivery lag: payment events at a steady rate (WEBHOOK_BENCH_EVENTS_PER_S, default
 * 10; each payment is three events) to WEBHOOK_BENCH_ENDPOINTS (default 50) endpoints, each a
 * receiver on loopback that verifies every signature, for WEBHOOK_BENCH_SECONDS (default 20).
 * Lag is from the event's occurredAt to the receiver having the POST. Prints figures; asserts nothing.
 */
const ENDPOINTS = envInt('WEBHOOK_BENCH_ENDPOINTS', 50, { min: 1 });
const EVENTS_PER_S = envInt('WEBHOOK_BENCH_EVENTS_PER_S', 10, { min: 1 });
const SECONDS = envInt('WEBHOOK_BENCH_SECONDS', 20, { min: 1 });
const DRAIN_SECONDS = 30;
const EVENTS_PER_PAYMENT = 3;

interface Receiver {
  server: Server;
  url: string;
  secret: string;
}

const lags: number[] = [];
const seen = new Set<string>();
let badSignatures = 0;
let duplicates = 0;

function startReceiver(): Promise<Receiver> {
  const receiver = { secret: '' } as Receiver;
  receiver.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { id, occurredAt } = JSON.parse(body) as { id: string; occurredAt: string };
      if (!verifySignature(String(req.headers['paygraph-signature'] ?? ''), body, receiver.secret)) badSignatures += 1;
      const key = `${receiver.url} ${id}`;
      if (seen.has(key)) duplicates += 1;
      else {
        seen.add(key);
        lags.push(Date.now() - Date.parse(occurredAt));
      }
      res.writeHead(200).end();
    });
  });
  return new Promise((resolve) => receiver.server.listen(0, '127.0.0.1', () => {
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as { port: number }).port}/hook`;
    resolve(receiver);
  }));
}

async function main(): Promise<void> {
  const stack = await startBenchStack({ PAYGRAPH_WEBHOOK_ADDRESS_GUARD: 'true', PAYGRAPH_WEBHOOK_ALLOW_LOOPBACK: 'true' });
  const receivers: Receiver[] = [];
  try {
    const source = await fundedAccount(stack.gatewayUrl, stack.token, 'Webhook Bench Payer', '1000000.00');
    const destination = await fundedAccount(stack.gatewayUrl, stack.token, 'Webhook Bench Payee', '1.00');
    for (let i = 0; i < ENDPOINTS; i++) {
      const receiver = await startReceiver();
      const { createWebhookEndpoint } = await graphqlData<{ createWebhookEndpoint: { signingSecret: string } }>(stack.gatewayUrl,
        'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { signingSecret } }', { i: { url: receiver.url, accountId: source } }, stack.token);
      receiver.secret = createWebhookEndpoint.signingSecret;
      receivers.push(receiver);
    }
    const intervalMs = (1000 * EVENTS_PER_PAYMENT) / EVENTS_PER_S;
    const started = Date.now();
    const creating: Promise<unknown>[] = [];
    let payments = 0;
    while (Date.now() - started < SECONDS * 1000) {
      payments += 1;
      creating.push(graphqlData(stack.gatewayUrl, 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }', {
        i: { idempotencyKey: `webhook-bench-${started}-${payments}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '1.00', currency: 'USD' } },
      }, stack.token));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + payments * intervalMs - Date.now())));
    }
    await Promise.all(creating);
    const expected = payments * EVENTS_PER_PAYMENT * ENDPOINTS;
    const drainUntil = Date.now() + DRAIN_SECONDS * 1000;
    while (seen.size < expected && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 200));
    const elapsed = (Date.now() - started) / 1000;
    const sorted = [...lags].sort((a, b) => a - b);
    console.log(JSON.stringify({
      endpoints: ENDPOINTS, eventsPerSecond: EVENTS_PER_S, seconds: SECONDS, payments,
      expectedDeliveries: expected, delivered: seen.size, duplicates, badSignatures,
      deliveriesPerSecond: Math.round(seen.size / elapsed),
      lagMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null },
    }, null, 2));
  } finally {
    await Promise.all(receivers.map((r) => new Promise((resolve) => r.server.close(resolve))));
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
