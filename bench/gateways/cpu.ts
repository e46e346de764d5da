import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of the benchmark's processes, read from /proc (Linux): where a request's time goes
 * (the database, each subgraph, the gateway) independently of how busy the machine is.
 * A process counts with its live descendants (`node --import tsx` runs an esbuild service
 * beside each server). Null where /proc is not there.
 */
interface ProcStat {
  ppid: number;
  cpuMs: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    // Fields after the command name: ppid is the 2nd; utime and stime the 12th and 13th, in clock ticks (100/s on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
  } catch {
    return null;
  }
}

/** Every process's stat at one moment (empty without /proc). */
function processTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return table;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) table.set(Number(entry), stat);
  }
  return table;
}

function treeMillis(table: Map<number, ProcStat>, pid: number): number | null {
  const root = table.get(pid);
  if (!root) return null;
  let total = root.cpuMs;
  for (const [child, stat] of table) if (stat.ppid === pid && child !== pid) total += treeMillis(table, child) ?? 0;
  return total;
}

export function cpuMillis(pid: number | undefined): number | null {
  return pid ? treeMillis(processTable(), pid) : null;
}

export type CpuSnapshot = Record<string, number | null>;

export function snapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  const table = processTable();
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid ? treeMillis(table, pid) : null]));
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
