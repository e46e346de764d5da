import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { withEnforcedSecurityFeatures } from '../gateway/authorization/security-features';
import { internalSigningSecret, SUBGRAPH_NAMES, SUBGRAPHS, type SubgraphName } from '../runtime/config';
import { ALL_SCOPES, signDevToken } from '../runtime/dev-token';
import { startEmbeddedDb, type EmbeddedDb } from '../runtime/embedded-db/launcher';
import { launchStack, waitForUrl, type RunningStack } from '../scripts/stack';
import { checkoutBaseline, startBaselineGateway, type BaselineCheckout } from './gateways/baseline';
import { perRequest as cpuPerRequest, snapshot, type CpuSnapshot } from './gateways/cpu';
import { benchSignature, withSubgraphUrls } from './gateways/identity';
import { runLoad, type LoadRequest, type LoadResult } from './gateways/load';
import { assertRustQueryPlan } from './gateways/query-plan';
import { cellRatios, formatTable, ratio, writeReport, type BenchReport, type Measurement } from './gateways/report';
import { dbCommands } from './support';
import { DEFAULT_VOLUME, pickRandom, seedVolume, type SeededVolume } from './volume-seed';

/**
 * `npm run bench`: our gateway beside plain Apollo Gateway and Hive Gateway (with its own
 * JavaScript runtime, and with the Rust query planner of Hive Router), in front of the
 * same four subgraph processes on the same seeded volume, and the subgraph itself where an
 * operation needs only one. Every target runs in its own process; rates measured side by side
 * in one run are compared as ratios (the machine is shared, absolute figures are noisy).
 * With --baseline <git-ref>, our gateway at that commit runs beside ours as `paygraph-baseline`:
 * before/after ratios from one run.
 * Prints a table and writes JSON and a PNG chart under bench/results/. Asserts nothing.
 */
const PORTS = { paygraph: 4300, apollo: 4310, hive: 4320, proxy: 4330, hiveRouter: 4340, baseline: 4350, subgraphs: { accounts: 4301, payments: 4302, risk: 4303, compliance: 4304 } as Record<SubgraphName, number> };
const DB_PREFIX = 'paygraph_bench_';
const CLIENTS = [1, 20, 100];
const WARM_UP_SECONDS = 3;

/**
 * `proxy` (opt-in: --targets): a bare forwarding proxy in front of the subgraph, the floor of one hop.
 * `paygraph-baseline` (with --baseline <git-ref>): our gateway as that commit had it (bench/gateways/baseline.ts).
 */
type TargetName = 'paygraph' | 'paygraph-baseline' | 'apollo' | 'hive' | 'hive-router' | 'proxy' | 'direct';
const TARGETS: TargetName[] = ['paygraph', 'paygraph-baseline', 'apollo', 'hive', 'hive-router', 'proxy', 'direct'];
/** Targets that are our gateway (now, or at the baseline): they verify the caller's JWT. */
const OURS: TargetName[] = ['paygraph', 'paygraph-baseline'];
/** Targets that serve only operations one subgraph answers. */
const SINGLE_SUBGRAPH: TargetName[] = ['proxy', 'direct'];

interface Operation {
  name: string;
  /** The subgraph that alone answers it, for the direct target. */
  direct?: SubgraphName;
  /** Builds the next request body (new ids or keys each time). */
  body(): string;
}

const LOOKUP = 'query Lookup($id: ID!) { account(id: $id) { id currency status customer { id name email country } } }';
const FAN_OUT = `query FanOut($ids: [ID!]) { payments(filter: { ids: $ids }, first: 20) { edges { node {
  id status amount { amount currency } createdAt
  source { id currency customer { id name country } }
  riskAssessment { level }
  complianceCheck { status }
} } } }`;
const CREATE = 'mutation Create($input: CreatePaymentInput!) { createPayment(input: $input) { id status } }';

function operations(volume: SeededVolume, runId: string): Operation[] {
  let created = 0;
  return [
    { name: 'lookup', direct: 'accounts', body: () => JSON.stringify({ query: LOOKUP, variables: { id: pickRandom(volume.accountIds) } }) },
    {
      name: 'fan-out',
      body: () => {
        const start = Math.floor(Math.random() * (volume.paymentIds.length - 20));
        return JSON.stringify({ query: FAN_OUT, variables: { ids: volume.paymentIds.slice(start, start + 20) } });
      },
    },
    {
      name: 'createPayment',
      direct: 'payments',
      body: () => {
        // Spread over the seeded accounts, so writers rarely meet on one account's ledger.
        const source = Math.floor(Math.random() * volume.accountIds.length);
        const destination = (source + 2 + 2 * Math.floor(Math.random() * 1000)) % volume.accountIds.length;
        return JSON.stringify({
          query: CREATE,
          variables: { input: { idempotencyKey: `bench-${runId}-${++created}`, sourceAccountId: volume.accountIds[source], destinationAccountId: volume.accountIds[destination], amount: { amount: '1.00', currency: 'USD' } } },
        });
      },
    },
  ];
}

interface RoundResult {
  result: LoadResult;
  cpuBefore: CpuSnapshot;
  cpuAfter: CpuSnapshot;
}

/**
 * One cell's figures from its rounds: the mean rate, the mean p50, the worst p99, every error,
 * and CPU per request over all the rounds' requests together.
 */
function combineRounds(runs: RoundResult[]): Omit<Measurement, 'operation' | 'clients' | 'target' | 'dbCommandsPerRequest'> {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const results = runs.map((r) => r.result);
  const completed = results.reduce((sum, r) => sum + r.completed, 0);
  const cpuMsPerRequest: Record<string, number> = {};
  for (const run of runs) {
    for (const [name, ms] of Object.entries(cpuPerRequest(run.cpuBefore, run.cpuAfter, completed))) cpuMsPerRequest[name] = (cpuMsPerRequest[name] ?? 0) + ms;
  }
  return {
    requestsPerSecond: mean(results.map((r) => r.requestsPerSecond)),
    roundRates: results.map((r) => r.requestsPerSecond),
    completed,
    p50Ms: mean(results.map((r) => r.p50Ms)),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    unanswered: results.reduce((sum, r) => sum + r.unanswered, 0),
    firstError: results.find((r) => r.firstError)?.firstError ?? null,
    cpuMsPerRequest,
  };
}

/** Starts a comparison gateway as its own process and waits for its READY line. */
async function startGatewayProcess(entry: string, port: number, supergraphPath: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'gateways', entry)], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, ...env, BENCH_GATEWAY_PORT: String(port), BENCH_SUPERGRAPH_PATH: supergraphPath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} not ready after 60 s`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      if (chunk.includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with code ${code}`)));
  });
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Refuses to start over another run's processes: a stale server on a port would answer for ours. */
async function assertPortsFree(ports: number[]): Promise<void> {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', () => reject(new Error(`port ${port} is in use: is another benchmark (or its leftovers) running?`)));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  }
}

/**
 * Waits until no subgraph has sent a database command for a while: requests a run left in
 * flight (the load stops sending, the servers go on working) must not run into the next one.
 */
async function drain(stack: RunningStack, maxMs = 90_000): Promise<void> {
  const started = Date.now();
  let last = JSON.stringify(await dbCommands(stack.subgraphUrls, DB_PREFIX));
  let quiet = 0;
  while (quiet < 2 && Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const now = JSON.stringify(await dbCommands(stack.subgraphUrls, DB_PREFIX));
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

/** Database commands per request, exactly: a few requests one at a time, counters read around them. */
async function commandsPerRequest(stack: RunningStack, url: string, next: () => LoadRequest, samples = 5): Promise<Record<string, number>> {
  await drain(stack);
  const before = await dbCommands(stack.subgraphUrls, DB_PREFIX);
  for (let i = 0; i < samples; i++) {
    const request = next();
    await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...request.headers }, body: request.body })).text();
  }
  const after = await dbCommands(stack.subgraphUrls, DB_PREFIX);
  return Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, (after[name] - before[name]) / samples]));
}

/**
 * One same read through every gateway target, its `data` and error count compared: a gateway
 * that answered otherwise would not be doing the same work. A difference is printed, not thrown.
 */
async function compareAnswers(operation: string, targets: TargetName[], url: (t: TargetName) => string, request: (t: TargetName) => LoadRequest): Promise<void> {
  if (targets.length < 2) return;
  const { body } = request(targets[0]);
  const answers = await Promise.all(
    targets.map(async (t) => {
      // Each target's own headers (ours needs a token), over the one body.
      const response = await fetch(url(t), { method: 'POST', headers: { 'content-type': 'application/json', ...request(t).headers }, body });
      const answer = (await response.json()) as { data?: unknown; errors?: unknown[] };
      return { target: t, data: answer.data ?? null, errors: answer.errors?.length ?? 0 };
    }),
  );
  const differing = answers.filter((a) => !isDeepStrictEqual(a.data, answers[0].data) || a.errors !== answers[0].errors);
  if (differing.length === 0) console.log(`answers: ${operation} the same through ${targets.join(', ')}${answers[0].errors ? ` (each with ${answers[0].errors} errors)` : ''}`);
  else console.log(`ANSWERS DIFFER: ${operation} through ${differing.map((a) => a.target).join(', ')} is not what ${targets[0]} answered (${JSON.stringify(answers).slice(0, 600)})`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '6' },
      operations: { type: 'string', default: 'lookup,fan-out,createPayment' },
      clients: { type: 'string', default: CLIENTS.join(',') },
      // createPayment's client counts, if they should differ from the reads' (--clients).
      'mutation-clients': { type: 'string' },
      // A payment takes ~80 ms of CPU across the graph: at 100 clients one takes about 6 s, longer
      // than a read run lasts, so mutation runs last longer, or few would be answered inside them.
      // (12 s keeps the whole benchmark, with its two read rounds, inside 10 minutes.)
      'mutation-seconds': { type: 'string', default: '12' },
      targets: { type: 'string', default: 'paygraph,apollo,hive,hive-router,direct' },
      profile: { type: 'boolean', default: false },
      // Rounds per read cell, alternating the order of the targets (see the loop below).
      rounds: { type: 'string', default: '2' },
      // Distinct callers (JWT subjects) our gateway's requests take turns acting for. One is a
      // partner app's service token; many are a frontend's users. Our gateway batches concurrent
      // fetches of several callers too, but merges entity fetches only within one
      // (gateway/subgraph-batching.ts): this shows what many callers cost it.
      callers: { type: 'string', default: '1' },
      // A git ref whose gateway runs as the extra target paygraph-baseline: ours / baseline per cell.
      baseline: { type: 'string' },
    },
  });
  const readRounds = Math.max(1, Number(values.rounds));
  const seconds = Number(values.seconds);
  const clientCounts = values.clients!.split(',').map(Number);
  const wantedOps = new Set(values.operations!.split(','));
  const wantedTargets = new Set(values.targets!.split(','));
  if (values.baseline) wantedTargets.add('paygraph-baseline');
  else if (wantedTargets.has('paygraph-baseline')) throw new Error('the paygraph-baseline target needs --baseline <git-ref>');
  const started = Date.now();
  await assertPortsFree([PORTS.paygraph, PORTS.baseline, PORTS.apollo, PORTS.hive, PORTS.hiveRouter, PORTS.proxy, ...Object.values(PORTS.subgraphs)]);
  const resultsDir = join(__dirname, 'results');
  // --profile: every server process writes a V8 CPU profile on exit (bench/gateways/profile-top.ts reads them).
  const profileDir = join(resultsDir, 'profiles');
  if (values.profile) mkdirSync(profileDir, { recursive: true });
  const processEnv: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    MONGODB_DB_PREFIX: DB_PREFIX,
    RATE_LIMIT_PER_SECOND: '1000000',
    RATE_LIMIT_BURST: '1000000',
    // The other gateways wait for a subgraph as long as the load tool does (60 s); ours would
    // time a mutation out after 10 s and, after five, open the payments circuit and fail fast.
    // Equal patience compares throughput, not load shedding.
    SUBGRAPH_TIMEOUT_MS: '60000',
    // The payments resume sweep scans the whole collection on FerretDB (~25 s at 50,000
    // payments), a core busy for half a minute; measured alongside, it would be measured.
    PAYGRAPH_RESUME_SWEEP: 'false',
    // Compliance reads new payment events once a second (two commands): counted among a few
    // requests sent one at a time, they made payments and compliance look like 1.2 commands.
    COMPLIANCE_AUDIT_POLL_MS: '0',
    ...(values.profile ? { NODE_OPTIONS: `--require ${join(__dirname, 'gateways', 'cpu-profile.cjs')}`, BENCH_PROFILE_DIR: profileDir } : {}),
  };

  let db: EmbeddedDb | undefined;
  let mongoUri = process.env.MONGODB_URI;
  if (!mongoUri) {
    const dataDir = process.env.BENCH_DATA_DIR ?? join(tmpdir(), 'paygraph-bench-volume');
    mkdirSync(dataDir, { recursive: true });
    db = await startEmbeddedDb({ dataDir });
    mongoUri = db.uri;
    console.log(`embedded FerretDB at ${mongoUri}, data in ${dataDir}`);
  }
  const children: ChildProcess[] = [];
  let stack: RunningStack | undefined;
  let supergraphDir: string | undefined;
  let baseline: BaselineCheckout | undefined;
  // Interrupted (Ctrl-C, a timeout): stop what we started instead of leaving it on the ports.
  const interrupted = () => {
    void Promise.all(children.map(stopProcess)).then(() => stack?.stop()).then(() => db?.stop()).then(() => baseline?.remove()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const volume = await seedVolume(mongoUri, DB_PREFIX, DEFAULT_VOLUME, (line) => console.log(line));
    if (!volume.seeded) console.log(`volume already seeded under ${DB_PREFIX}: ${volume.customerIds.length} customers, ${volume.accountIds.length} accounts, ${volume.paymentIds.length} payments`);
    stack = await launchStack({ mongoUri, gatewayPort: PORTS.paygraph, subgraphPorts: PORTS.subgraphs, env: processEnv, stdio: 'inherit' });
    const supergraphPath = join((supergraphDir = mkdtempSync(join(tmpdir(), 'paygraph-bench-'))), 'supergraph.graphql');
    const urls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, stack!.subgraphUrls[name]]));
    writeFileSync(supergraphPath, withSubgraphUrls(readFileSync(join(__dirname, '..', 'schema', 'supergraph.graphql'), 'utf8'), urls));
    const pids: Record<string, number | undefined> = { ferretdb: db?.process.pid, ...Object.fromEntries([...stack.processes].map(([name, child]) => [name === 'gateway' ? 'paygraph' : name, child.pid])) };
    if (values.baseline) {
      baseline = checkoutBaseline(values.baseline);
      // Our gateway's environment as launchStack gives it: the subgraphs' URLs both ways, each
      // gateway reads the one its code knows (SUBGRAPH_URLS now, <NAME>_URL at older commits).
      // The baseline serves the same supergraph from a file, not the registry our gateway published
      // to. A gateway older than the authorization directives refuses their for: SECURITY links,
      // so its copy has their purpose dropped, as ours loads it (it then enforces none of them).
      const baselineSupergraph = join(supergraphDir, 'baseline-supergraph.graphql');
      writeFileSync(baselineSupergraph, withEnforcedSecurityFeatures(readFileSync(supergraphPath, 'utf8')));
      const gatewayEnv: Record<string, string> = { ...processEnv, MONGODB_URI: mongoUri, SUBGRAPH_URLS: JSON.stringify(urls), SUPERGRAPH_SOURCE: 'file', SUPERGRAPH_PATH: baselineSupergraph };
      for (const name of SUBGRAPH_NAMES) {
        gatewayEnv[SUBGRAPHS[name].urlEnv] = urls[name];
        gatewayEnv[SUBGRAPHS[name].portEnv] = String(PORTS.subgraphs[name]);
      }
      children.push(await startBaselineGateway(baseline, PORTS.baseline, gatewayEnv));
      pids['paygraph-baseline'] = children[children.length - 1].pid;
      console.log(`paygraph-baseline: the gateway of ${baseline.ref} (${baseline.commit.slice(0, 12)})${baseline.sameSupergraph ? '' : ', whose schema/supergraph.graphql differs from ours'}`);
    }
    if (wantedTargets.has('apollo')) children.push(await startGatewayProcess('apollo-gateway.ts', PORTS.apollo, supergraphPath, processEnv));
    if (wantedTargets.has('apollo')) pids.apollo = children[children.length - 1].pid;
    if (wantedTargets.has('hive')) children.push(await startGatewayProcess('hive-gateway.ts', PORTS.hive, supergraphPath, processEnv));
    if (wantedTargets.has('hive')) pids.hive = children[children.length - 1].pid;
    if (wantedTargets.has('hive-router')) {
      children.push(await startGatewayProcess('hive-router-gateway.ts', PORTS.hiveRouter, supergraphPath, processEnv));
      pids['hive-router'] = children[children.length - 1].pid;
      // A target that quietly planned in JavaScript would be measured as Hive Gateway again.
      const planned = await assertRustQueryPlan(`http://127.0.0.1:${PORTS.hiveRouter}/graphql`, JSON.stringify({ query: FAN_OUT, variables: { ids: volume.paymentIds.slice(0, 20) } }));
      console.log(`hive-router: the fan-out was planned by the Rust query planner (${planned})`);
    }
    if (wantedTargets.has('proxy')) children.push(await startGatewayProcess('bare-proxy.ts', PORTS.proxy, supergraphPath, { ...processEnv, BENCH_UPSTREAMS: JSON.stringify(urls) }));
    if (wantedTargets.has('proxy')) pids.proxy = children[children.length - 1].pid;
    console.log(`stack ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    const callers = Math.max(1, Number(values.callers));
    const tokens = await Promise.all(Array.from({ length: callers }, (_, i) => signDevToken({ sub: callers === 1 ? 'bench-operator' : `bench-operator-${i}`, scope: ALL_SCOPES })));
    let turn = 0;
    const nextToken = () => tokens[turn++ % tokens.length];
    const secret = internalSigningSecret();
    const gatewayUrls: Record<Exclude<TargetName, 'direct' | 'proxy'>, string> = {
      paygraph: stack.gatewayUrl,
      'paygraph-baseline': `http://127.0.0.1:${PORTS.baseline}/graphql`,
      apollo: `http://127.0.0.1:${PORTS.apollo}/graphql`,
      hive: `http://127.0.0.1:${PORTS.hive}/graphql`,
      'hive-router': `http://127.0.0.1:${PORTS.hiveRouter}/graphql`,
    };
    const report: BenchReport = {
      startedAt: new Date(started).toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      volume: { customers: volume.customerIds.length, accounts: volume.accountIds.length, payments: volume.paymentIds.length },
      secondsPerRun: seconds,
      readRounds,
      callers,
      mutationSecondsPerRun: Number(values['mutation-seconds']),
      ...(baseline ? { baseline: { ref: baseline.ref, commit: baseline.commit } } : {}),
      measurements: [],
    };
    const runId = randomUUID().slice(0, 8);
    for (const op of operations(volume, runId).filter((o) => wantedOps.has(o.name))) {
      const targets = TARGETS.filter((t) => wantedTargets.has(t) && (!SINGLE_SUBGRAPH.includes(t) || op.direct));
      const targetUrl = (t: TargetName) => (t === 'direct' ? stack!.subgraphUrls[op.direct!] : t === 'proxy' ? `http://127.0.0.1:${PORTS.proxy}/${op.direct}/graphql` : gatewayUrls[t]);
      const request = (t: TargetName): LoadRequest => {
        const body = op.body();
        if (OURS.includes(t)) return { body, headers: { authorization: `Bearer ${nextToken()}` } };
        // The proxy forwards the caller's headers: signed for the subgraph's own path.
        if (SINGLE_SUBGRAPH.includes(t)) return { body, headers: benchSignature(secret, stack!.subgraphUrls[op.direct!], body) };
        return { body, headers: {} };
      };
      if (op.name !== 'createPayment') await compareAnswers(op.name, targets.filter((t) => !SINGLE_SUBGRAPH.includes(t)), targetUrl, request);
      // The exact count of database commands, then a warm-up under load, the same for every target
      // (query plans, JIT, connection pools): otherwise the first measured run pays for it.
      const perRequest = new Map<TargetName, Record<string, number>>();
      for (const t of targets) {
        perRequest.set(t, await commandsPerRequest(stack, targetUrl(t), () => request(t), op.name === 'createPayment' ? 1 : 5));
        // (createPayment's own one-client run comes first and warms it; its runs are long.)
        if (op.name !== 'createPayment') await runLoad({ url: targetUrl(t), clients: 20, seconds: WARM_UP_SECONDS, timeoutSeconds: 60, nextRequest: () => request(t) });
      }
      const counts = op.name === 'createPayment' && values['mutation-clients'] ? values['mutation-clients'].split(',').map(Number) : clientCounts;
      const drainMs = op.name === 'createPayment' ? 20_000 : 60_000;
      // Reads run in rounds, each in the reverse order of the one before: the target measured
      // first in a cell ran up to a third slower than the same target measured second (caches
      // and JIT still settling), so a single fixed order favoured whoever came last.
      const rounds = op.name === 'createPayment' ? 1 : readRounds;
      // Each run drains after itself; only the warm-up before the first one leaves work in flight.
      let drained = false;
      for (const clients of counts) {
        const runs = new Map<TargetName, RoundResult[]>();
        for (let round = 0; round < rounds; round++) {
          for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
            if (!drained) await drain(stack, drainMs);
            const cpuBefore = snapshot(pids);
            const runSeconds = op.name === 'createPayment' ? Number(values['mutation-seconds']) : seconds;
            const result = await runLoad({ url: targetUrl(target), clients, seconds: runSeconds, timeoutSeconds: 60, nextRequest: () => request(target) });
            // Requests left in flight finish during the drain: their CPU belongs to this run.
            await drain(stack, drainMs);
            drained = true;
            runs.set(target, [...(runs.get(target) ?? []), { result, cpuBefore, cpuAfter: snapshot(pids) }]);
            console.log(`${op.name} ${clients} clients ${target}${rounds > 1 ? ` (round ${round + 1})` : ''}: ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${result.errors}, ${result.unanswered} unanswered at the end${result.firstError ? ` (first: ${result.firstError})` : ''}`);
          }
        }
        for (const target of targets) {
          report.measurements.push({ operation: op.name, clients, target, ...combineRounds(runs.get(target)!), dbCommandsPerRequest: perRequest.get(target)! });
        }
      }
    }
    report.ratios = cellRatios(report);
    console.log(`\n${formatTable(report)}\n`);
    for (const m of report.measurements.filter((x) => x.target === 'paygraph')) {
      const hive = ratio(report, m, 'hive');
      const hiveRouter = ratio(report, m, 'hive-router');
      const direct = ratio(report, m, 'direct');
      // The Rust planner's figure sits beside the target's for reading; the target stays ours / hive.
      const besideHive = hiveRouter === null ? '' : `, ours/hive-router = ${hiveRouter.toFixed(2)}`;
      if (m.operation === 'fan-out' && hive !== null) console.log(`target: fan-out at ${m.clients} clients, ours/hive = ${hive.toFixed(2)} (want >= 1.20)${besideHive}`);
      else if (m.operation === 'fan-out' && hiveRouter !== null) console.log(`fan-out at ${m.clients} clients${besideHive}`);
      if (m.operation === 'lookup' && direct !== null) console.log(`target: lookup at ${m.clients} clients, ours/direct = ${direct.toFixed(2)} (want >= 0.80)${besideHive}`);
      const before = ratio(report, m, 'paygraph-baseline');
      if (before !== null) console.log(`before/after: ${m.operation} at ${m.clients} clients, ours/paygraph-baseline (${report.baseline!.ref}) = ${before.toFixed(2)}`);
    }
    // One caller is the headline run; a run with many callers is kept beside it, not over it.
    const paths = await writeReport(report, resultsDir, callers === 1 ? 'gateways' : `gateways-callers-${callers}`);
    console.log(`wrote ${paths.join(', ')}`);
  } finally {
    await Promise.all(children.map(stopProcess));
    await stack?.stop();
    await db?.stop();
    if (supergraphDir) rmSync(supergraphDir, { recursive: true, force: true });
    baseline?.remove();
    console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
