import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SUBGRAPH_NAMES, type SubgraphName } from '../runtime/config';
import { ALL_SCOPES, signDevToken } from '../runtime/dev-token';
import { launchStack } from '../scripts/stack';
import { graphqlData, graphqlRequest } from '../scripts/gateway-client';
import { loggedEventCursors } from '../tests/resilience-support';
import { auditBank } from '../tests/support/bank-invariants';
import { freePort } from '../tests/support/stack';
import { fundedAccount, percentile } from './support';

/**
 * The soak (`npm run soak -- --minutes 10`): mixed query, mutation and subscription load
 * through the gateway while one subgraph after another is killed (SIGKILL) and restarted,
 * every `--kill-every` seconds. Prints error rates by code, latency percentiles, what the
 * subscribers received against the event log, and the bank invariants. Asserts nothing, but
 * exits 1 when an invariant is broken.
 */
const CREATE = 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }';
const FAN_OUT = `{ payments(first: 20) { edges { node { id status amount { amount }
  riskAssessment { level } complianceCheck { status } source { id customer { name kyc { tier } } } } } } }`;
const ACCOUNT = 'query($id: ID!) { account(id: $id) { id balance { amount } customer { name } payments(first: 5) { edges { node { id status } } } } }';
const EVENTS = 'subscription($a: ID, $after: String) { paymentStatusChanged(accountId: $a, after: $after) { cursor status payment { id riskAssessment { level } } } }';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  /** Seconds since the load started. */
  at: number;
  ms: number;
  outcome: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      'kill-every': { type: 'string', default: '60' },
      'down-seconds': { type: 'string', default: '5' },
      accounts: { type: 'string', default: '40' },
      subscribers: { type: 'string', default: '8' },
      'query-clients': { type: 'string', default: '2' },
      'payment-clients': { type: 'string', default: '2' },
    },
  });
  const durationMs = Number(values.minutes) * 60_000;
  const killEveryMs = Number(values['kill-every']) * 1000;
  const downMs = Number(values['down-seconds']) * 1000;
  const subgraphPorts = {} as Record<SubgraphName, number>;
  for (const name of SUBGRAPH_NAMES) subgraphPorts[name] = await freePort();
  const stack = await launchStack({
    dataDir: mkdtempSync(join(tmpdir(), 'paygraph-soak-')),
    gatewayPort: await freePort(),
    subgraphPorts,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'fatal', RATE_LIMIT_PER_SECOND: '1000000', RATE_LIMIT_BURST: '1000000', COMPLIANCE_AUDIT_POLL_MS: '1000', PAYGRAPH_RESUME_INTERVAL_MS: '1000', PAYGRAPH_SAGA_LEASE_MS: '5000' },
    stdio: 'inherit',
  });
  const url = stack.gatewayUrl;
  const token = await signDevToken({ sub: 'soak-operator', scope: ALL_SCOPES });
  const samples: Record<'query' | 'mutation', Sample[]> = { query: [], mutation: [] };
  let running = true;
  try {
    const accounts: string[] = [];
    for (let i = 0; i < Number(values.accounts); i++) accounts.push(await fundedAccount(url, token, `Soak Holder ${i}`, '100000.00'));
    const deposited = BigInt(accounts.length) * 10_000_000n;
    console.log(`soak: ${values.minutes} min, a subgraph killed every ${values['kill-every']} s for ${values['down-seconds']} s, ${accounts.length} accounts, ${values['payment-clients']} payment and ${values['query-clients']} query clients, ${values.subscribers} subscribers; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);

    let loadStarted = Date.now();
    const examples = new Map<string, string>();
    let down: string | undefined;
    const timed = async (kind: 'query' | 'mutation', run: () => Promise<{ errors?: { message: string; extensions?: { code?: string } }[] }>) => {
      const started = performance.now();
      let outcome = 'OK';
      try {
        const result = await run();
        if (result.errors?.length) {
          outcome = [...new Set(result.errors.map((e) => e.extensions?.code ?? 'NO_CODE'))].sort().join('+');
          const key = `${kind} ${outcome} while ${down ?? 'all were up'}`;
          if (!examples.has(key)) examples.set(key, result.errors[0].message);
        }
      } catch {
        outcome = 'NETWORK';
      }
      samples[kind].push({ at: (Date.now() - loadStarted) / 1000, ms: performance.now() - started, outcome });
      // A client backs off a little after a failure instead of spinning on fast errors.
      if (outcome !== 'OK') await sleep(200);
    };
    let n = 0;
    const mutationWorker = async () => {
      while (running) {
        const i = n++;
        const source = accounts[i % accounts.length];
        const destination = accounts[(i + 1 + (i % 11)) % accounts.length];
        await timed('mutation', () => graphqlRequest(url, CREATE, { i: { idempotencyKey: `soak-${i}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: `${1 + (i % 20)}.${String(i % 100).padStart(2, '0')}`, currency: 'USD' } } }, token));
      }
    };
    const queryWorker = async (w: number) => {
      for (let i = 0; running; i++) {
        await timed('query', () => (i % 2 ? graphqlRequest(url, FAN_OUT, {}, token) : graphqlRequest(url, ACCOUNT, { id: accounts[(w * 7 + i) % accounts.length] }, token)));
      }
    };

    // Subscribers that behave like a careful client: when a subscription ends, resume from the last cursor.
    const watched = accounts.slice(0, Number(values.subscribers));
    const received = watched.map(() => [] as string[]);
    const firstCursor: (string | null)[] = [];
    let resubscriptions = 0;
    let eventErrors = 0;
    const clients = watched.map(() => createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 1000, retryWait: async () => void (await sleep(500)) }));
    for (const [i, accountId] of watched.entries()) {
      const { account } = await graphqlData(url, 'query($id: ID!) { account(id: $id) { payments(first: 1) { edges { node { events { cursor } } } } } }', { id: accountId }, token);
      firstCursor.push(account.payments.edges[0]?.node.events.at(-1)?.cursor ?? null);
    }
    const subscribe = (i: number) => {
      const after = received[i].at(-1) ?? firstCursor[i];
      clients[i].subscribe<{ paymentStatusChanged: { cursor: string } }>({ query: EVENTS, variables: { a: watched[i], after } }, {
        next: (result) => {
          if (result.errors?.length) eventErrors += 1;
          if (result.data) received[i].push(result.data.paymentStatusChanged.cursor);
        },
        error: () => resume(i),
        complete: () => resume(i),
      });
    };
    const resume = (i: number) => {
      if (!running) return;
      resubscriptions += 1;
      setTimeout(() => subscribe(i), 500);
    };
    watched.forEach((_, i) => subscribe(i));

    const started = Date.now();
    loadStarted = started;
    const workers = [...Array.from({ length: Number(values['payment-clients']) }, mutationWorker), ...Array.from({ length: Number(values['query-clients']) }, (_, w) => queryWorker(w))];
    const kills: string[] = [];
    const outages: { from: number; to: number }[] = [];
    const chaos = (async () => {
      for (let round = 0; Date.now() - started + killEveryMs <= durationMs; round++) {
        await sleep(killEveryMs - downMs);
        const victim = SUBGRAPH_NAMES[round % SUBGRAPH_NAMES.length];
        stack.processes.get(victim)?.kill('SIGKILL');
        down = `${victim} was down`;
        const killedAt = Date.now();
        await sleep(downMs);
        await stack.restart(victim);
        down = undefined;
        outages.push({ from: (killedAt - started) / 1000, to: (Date.now() - started) / 1000 });
        kills.push(`${victim} at ${((killedAt - started) / 1000).toFixed(0)} s (back after ${((Date.now() - killedAt) / 1000).toFixed(1)} s)`);
      }
    })();
    await Promise.race([sleep(durationMs), chaos.then(() => sleep(Math.max(0, durationMs - (Date.now() - started))))]);
    running = false;
    await Promise.all([...workers, chaos]);
    console.log(`killed: ${kills.join(', ') || 'none'}; load average now ${loadavg()[0].toFixed(1)}`);
    const metrics = await (await fetch(url.replace(/\/graphql$/, '/metrics'))).text();
    console.log(`gateway: ${metrics.split('\n').filter((l) => l.startsWith('paygraph_gateway_subgraph_unavailable_total{')).map((l) => l.replace('paygraph_gateway_subgraph_unavailable_total', '')).join(', ') || 'no unavailable fetches'}`);

    // A request counts as "during an outage" from the kill until 5 s after the subgraph is back
    // (the recovery the contract allows); everything else should succeed.
    const degraded = (at: number) => outages.some((o) => at >= o.from && at <= o.to + 5);
    const describe = (label: string, list: Sample[]) => {
      if (list.length === 0) return `${label}: none`;
      const byOutcome = new Map<string, number>();
      for (const s of list) byOutcome.set(s.outcome, (byOutcome.get(s.outcome) ?? 0) + 1);
      const rates = [...byOutcome].sort((a, b) => b[1] - a[1]).map(([outcome, count]) => `${outcome} ${((100 * count) / list.length).toFixed(2)}%`);
      const ms = list.map((s) => s.ms);
      return `${label}: ${list.length} requests, ${rates.join(', ')}; p50 ${percentile(ms, 50).toFixed(0)} ms, p95 ${percentile(ms, 95).toFixed(0)} ms, p99 ${percentile(ms, 99).toFixed(0)} ms, max ${Math.max(...ms).toFixed(0)} ms`;
    };
    for (const kind of ['query', 'mutation'] as const) {
      const all = samples[kind];
      if (process.env.SOAK_TIMELINE) {
        for (let t = 0; t * 10 < durationMs / 1000; t++) {
          const window = all.filter((s) => s.at >= t * 10 && s.at < t * 10 + 10);
          const counts = new Map<string, number>();
          for (const s of window) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
          console.log(`  ${kind} ${t * 10}-${t * 10 + 10} s: ${JSON.stringify(Object.fromEntries(counts))}`);
        }
      }
      console.log(`${kind}s (${(all.length / (durationMs / 1000)).toFixed(1)}/s)`);
      console.log(`  ${describe('all', all)}`);
      console.log(`  ${describe('all subgraphs up', all.filter((s) => !degraded(s.at)))}`);
      console.log(`  ${describe('during an outage', all.filter((s) => degraded(s.at)))}`);
    }

    for (const [outcome, message] of examples) console.log(`  e.g. ${outcome}: ${message}`);

    // Let unfinished payments drain (the saga resumer), then audit.
    const data = <T = any>(query: string, variables: Record<string, unknown> = {}) => graphqlData<T>(url, query, variables, token);
    let audit = await auditBank(data, accounts, deposited);
    for (const deadline = Date.now() + 60_000; audit.unfinished.length > 0 && Date.now() < deadline; ) {
      await sleep(1000);
      audit = await auditBank(data, accounts, deposited);
    }
    await sleep(1500); // the last events reach subscribers
    let gaps = 0;
    for (const [i, accountId] of watched.entries()) {
      const expected = await loggedEventCursors(data, accountId, firstCursor[i]);
      if (JSON.stringify(received[i]) !== JSON.stringify(expected)) gaps += 1;
    }
    console.log(`subscriptions: ${received.reduce((s, r) => s + r.length, 0)} events to ${watched.length} subscribers, ${resubscriptions} resumptions, ${eventErrors} events with field errors, ${gaps} subscribers whose events differ from the log`);
    console.log(`payments: ${audit.payments.length} ${JSON.stringify(audit.byStatus)}; unfinished ${audit.unfinished.length}`);
    console.log(`invariants: ${audit.violations.length === 0 ? 'hold' : `${audit.violations.length} broken`} (total ${audit.totalMinor} minor units of ${deposited} deposited)`);
    for (const violation of audit.violations.slice(0, 20)) console.log(`  ${violation}`);
    for (const client of clients) await client.dispose();
    process.exitCode = audit.violations.length || audit.unfinished.length || gaps ? 1 : 0;
  } finally {
    running = false;
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
