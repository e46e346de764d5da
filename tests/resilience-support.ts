import type { ChildProcess } from 'node:child_process';
import { decodeEventCursor } from '../subgraphs/payments/cursors';
import type { GraphQLResult } from '../scripts/gateway-client';
import type { GraphData } from './support/bank-invariants';

export { eventually } from './support/wait';

/**
 * Support for the resilience tests: a closed-loop load that records every outcome, the
 * signal-and-wait of one process, and the payment events of an account as the log holds them.
 */
export interface Load {
  /** Stops issuing work and waits for what is in flight. */
  stop(): Promise<void>;
}

/** `concurrency` workers each running `task` again and again until stopped. */
export function runLoad(concurrency: number, task: () => Promise<void>): Load {
  let running = true;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) await task();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** A request that never throws: a refused connection is a result with status 0. */
export async function settled<T>(request: Promise<GraphQLResult<T>>): Promise<GraphQLResult<T>> {
  try {
    return await request;
  } catch (error) {
    return { status: 0, errors: [{ message: String((error as Error).cause ?? error) }] };
  }
}

export function codesOf(result: GraphQLResult<unknown>): string[] {
  return (result.errors ?? []).map((e) => String(e.extensions?.code ?? 'NO_CODE'));
}

/** Sends `signal` to `child` and resolves with its exit code and how long it took to exit. */
export async function signalAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const code = await exited;
  return { code, ms: Date.now() - started };
}

/** Cursors of every event in the log touching `accountId` after `afterCursor`, in log order. */
export async function loggedEventCursors(data: GraphData, accountId: string, afterCursor: string | null): Promise<string[]> {
  const after = afterCursor ? decodeEventCursor(afterCursor) : -1;
  const cursors: string[] = [];
  for (let page: string | null = null; ; ) {
    const result: any = await data('query($id: ID!, $after: String) { account(id: $id) { payments(first: 100, after: $after) { edges { node { events { cursor } } } pageInfo { hasNextPage endCursor } } } }', { id: accountId, after: page });
    for (const edge of result.account.payments.edges) for (const event of edge.node.events) cursors.push(event.cursor);
    if (!result.account.payments.pageInfo.hasNextPage) break;
    page = result.account.payments.pageInfo.endCursor;
  }
  return cursors
    .map((cursor) => ({ cursor, sequence: decodeEventCursor(cursor) }))
    .filter((e) => e.sequence > after)
    .sort((a, b) => a.sequence - b.sequence)
    .map((e) => e.cursor);
}

/** Reads one counter or gauge sample (name with labels, as printed) from a /metrics page. */
export async function metricValue(metricsUrl: string, sample: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
