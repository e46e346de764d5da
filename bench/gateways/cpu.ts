import { readFileSync } from 'node:fs';

/**
 * CPU time of the benchmark's processes, read from /proc (Linux): where a request's time goes
 * (the database, each subgraph, the gateway) independently of how busy the machine is.
 * Null where /proc is not there.
 */
export function cpuMillis(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    // Fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100/s on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

export type CpuSnapshot = Record<string, number | null>;

export function snapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMillis(pid)]));
}

/** CPU ms per request by process between two snapshots (processes without a figure left out). */
export function perRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, start] of Object.entries(before)) {
    const end = after[name];
    if (start !== null && end !== null && end !== undefined && requests > 0) result[name] = (end - start) / requests;
  }
  return result;
}
