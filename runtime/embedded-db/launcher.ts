import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ensureFerretDbBinary } from './build';

/** A running embedded FerretDB process. */
export interface EmbeddedDb {
  readonly uri: string;
  readonly process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  stop(graceMs?: number): Promise<void>;
}

export interface EmbeddedDbOptions {
  /** Directory holding the SQLite files. Kept across restarts by `npm start`; throwaway in tests. */
  dataDir: string;
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  log?: (line: string) => void;
  /** Another build of the wrapper to run (the benchmark compares builds); default: this checkout's. */
  binary?: string;
}

/** Builds (once) and starts FerretDB on loopback; resolves when it accepts connections. */
export async function startEmbeddedDb(options: EmbeddedDbOptions): Promise<EmbeddedDb> {
  const binary = options.binary ?? ensureFerretDbBinary(options.log);
  const child = spawn(binary, ['-listen', `127.0.0.1:${options.port ?? 0}`, '-data', options.dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 50) stderr.shift();
  });
  const uri = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`FerretDB did not start in 30s: ${stderr.join('')}`)), 30_000);
    lines.on('line', (line) => {
      const match = /^READY (mongodb:\/\/\S+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`FerretDB exited before it was ready (code ${code}, signal ${signal}): ${stderr.join('')}`));
    });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    uri,
    process: child,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
