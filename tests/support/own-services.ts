import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startEmbeddedDb, type EmbeddedDb } from '../../runtime/embedded-db/launcher';
import { freePort } from './stack';

/**
 * Services a resilience test owns and may stop and start again on the same port: a
 * FerretDB of its own (the run's shared one stays untouched for other test files) and a
 * redis-server of its own (never the shared 6379).
 */
export interface RestartableService {
  readonly uri: string;
  /** Stops the process (SIGKILL: a crash; SIGTERM: a clean stop) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (and, for the database, the same data). */
  start(): Promise<void>;
}

export async function startOwnFerretDb(): Promise<RestartableService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paygraph-resilience-db-'));
  const port = await freePort();
  let db: EmbeddedDb = await startEmbeddedDb({ dataDir, port });
  return {
    uri: db.uri,
    stop: async (signal = 'SIGKILL') => {
      await exitOf(db.process, signal);
    },
    start: async () => {
      db = await startEmbeddedDb({ dataDir, port });
    },
  };
}

export async function startOwnRedis(): Promise<RestartableService> {
  const port = await freePort();
  let child = await spawnRedis(port);
  return {
    uri: `redis://127.0.0.1:${port}`,
    stop: async (signal = 'SIGTERM') => {
      await exitOf(child, signal);
    },
    start: async () => {
      child = await spawnRedis(port);
    },
  };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready`)));
  });
  child.stdout!.resume();
  return child;
}

function exitOf(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  return exited;
}
