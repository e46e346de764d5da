import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { SUBGRAPH_NAMES, SUBGRAPHS, type SubgraphName } from '../runtime/config';
import { startEmbeddedDb, type EmbeddedDb } from '../runtime/embedded-db/launcher';

/**
 * Starts the whole graph as separate processes — the embedded database (unless MONGODB_URI
 * is given), the four subgraphs, then the gateway — and supervises them: if one dies, it is
 * reported by name with its exit reason and the rest are stopped. `npm start` and the
 * end-to-end tests both use it.
 */
export interface StackOptions {
  /** Use this database instead of starting the embedded one. */
  mongoUri?: string;
  /** Data directory for the embedded database (kept by `npm start`, throwaway in tests). */
  dataDir?: string;
  gatewayPort?: number;
  /** Ports for the subgraphs; 0 is not allowed here because the gateway must know them. */
  subgraphPorts?: Partial<Record<SubgraphName, number>>;
  /** Extra environment for every process (e.g. MONGODB_DB_PREFIX in tests). */
  env?: Record<string, string>;
  /** Where child output goes: 'inherit' (npm start) or 'ignore'/'pipe'. */
  stdio?: 'inherit' | 'ignore' | 'pipe';
  log?: (line: string) => void;
  /** Called once when a process exits without being asked to. */
  onUnexpectedExit?: (name: string, reason: string) => void;
}

export interface RunningStack {
  readonly gatewayUrl: string;
  readonly mongoUri: string;
  readonly subgraphUrls: Record<SubgraphName, string>;
  readonly processes: ReadonlyMap<string, ChildProcess>;
  /** Stops the gateway, then the subgraphs, then the database. */
  stop(): Promise<void>;
  /** Starts one named process again with the same settings (resilience tests). */
  restart(name: string): Promise<void>;
}

const ROOT = join(__dirname, '..');

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by ${signal}` : `exited with code ${code}`;
}

export async function waitForUrl(url: string, timeoutMs = 60_000, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (!isAlive()) throw new Error(`process behind ${url} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A service process from an entry file: `node --import tsx` runs TypeScript in one process (the tsx CLI would add a wrapper process per service). */
export function spawnService(entry: string, env: NodeJS.ProcessEnv, stdio: 'inherit' | 'pipe' | 'ignore' = 'inherit'): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env, stdio: ['ignore', stdio, stdio] });
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** One more service process beside a stack, ready once `readyUrl` answers; stopped if it never does. */
export async function startService(entry: string, env: NodeJS.ProcessEnv, readyUrl: string, stdio: 'inherit' | 'pipe' | 'ignore' = 'inherit'): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawnService(entry, env, stdio);
  const stop = () => stopChild(child);
  try {
    await waitForUrl(readyUrl, 90_000, () => isRunning(child));
  } catch (error) {
    await stop();
    throw error;
  }
  return { child, stop };
}

export async function launchStack(options: StackOptions = {}): Promise<RunningStack> {
  const log = options.log ?? (() => {});
  let db: EmbeddedDb | undefined;
  let mongoUri = options.mongoUri ?? process.env.MONGODB_URI;
  if (!mongoUri) {
    if (!options.dataDir) throw new Error('launchStack needs mongoUri or dataDir');
    db = await startEmbeddedDb({ dataDir: options.dataDir, log });
    mongoUri = db.uri;
    log(`embedded FerretDB listening at ${mongoUri} (data in ${options.dataDir})`);
  }

  const ports = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, options.subgraphPorts?.[name] ?? SUBGRAPHS[name].port])) as Record<SubgraphName, number>;
  const subgraphUrls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, `http://127.0.0.1:${ports[name]}/graphql`])) as Record<SubgraphName, string>;
  const gatewayPort = options.gatewayPort ?? 4000;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...options.env,
    MONGODB_URI: mongoUri,
    GATEWAY_PORT: String(gatewayPort),
  };
  for (const name of SUBGRAPH_NAMES) {
    env[SUBGRAPHS[name].portEnv] = String(ports[name]);
    env[SUBGRAPHS[name].urlEnv] = subgraphUrls[name];
  }
  // The gateway calls the subgraphs where they listen, whatever URLs the supergraph holds.
  env.SUBGRAPH_URLS = JSON.stringify(subgraphUrls);

  const processes = new Map<string, ChildProcess>();
  const entries = new Map<string, string>([
    ...SUBGRAPH_NAMES.map((name) => [name, join(ROOT, 'subgraphs', name, 'main.ts')] as [string, string]),
    ['gateway', join(ROOT, 'gateway', 'main.ts')],
  ]);
  let stopping = false;
  const expectedExits = new Set<string>();

  const spawnProcess = (name: string): ChildProcess => {
    const child = spawnService(entries.get(name)!, env, options.stdio);
    processes.set(name, child);
    child.once('exit', (code, signal) => {
      if (stopping || expectedExits.delete(name)) return;
      const reason = describeExit(code, signal);
      log(`${name} ${reason}`);
      options.onUnexpectedExit?.(name, reason);
    });
    return child;
  };
  const alive = (name: string) => {
    const child = processes.get(name);
    return Boolean(child && isRunning(child));
  };
  const healthUrl = (name: string) =>
    name === 'gateway' ? `http://127.0.0.1:${gatewayPort}/healthz` : subgraphUrls[name as SubgraphName].replace(/\/graphql$/, '/readyz');

  const stopProcess = async (name: string, graceMs = 10_000) => {
    const child = processes.get(name);
    if (!child || !alive(name)) return;
    expectedExits.add(name);
    await stopChild(child, graceMs);
  };

  const stop = async () => {
    stopping = true;
    await stopProcess('gateway');
    await Promise.all(SUBGRAPH_NAMES.map((name) => stopProcess(name)));
    await db?.stop();
  };

  try {
    for (const name of SUBGRAPH_NAMES) spawnProcess(name);
    await Promise.all(SUBGRAPH_NAMES.map((name) => waitForUrl(healthUrl(name), 90_000, () => alive(name))));
    spawnProcess('gateway');
    await waitForUrl(healthUrl('gateway'), 90_000, () => alive('gateway'));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    gatewayUrl: `http://127.0.0.1:${gatewayPort}/graphql`,
    mongoUri,
    subgraphUrls,
    processes,
    stop,
    restart: async (name: string) => {
      await stopProcess(name);
      spawnProcess(name);
      await waitForUrl(healthUrl(name), 90_000, () => alive(name));
    },
  };
}
