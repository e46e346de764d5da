import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './load';

/** One measured cell: an operation at a number of clients, through one target. */
export interface Measurement extends LoadResult {
  operation: string;
  clients: number;
  target: string;
  /** Database commands per request, by subgraph (counted over a few requests sent one at a time). */
  dbCommandsPerRequest: Record<string, number>;
  /** CPU ms per completed request, by process (database, subgraphs, gateways), from /proc. */
  cpuMsPerRequest: Record<string, number>;
  /** Each round's rate, in the order run (requestsPerSecond is their mean). */
  roundRates: number[];
}

export interface BenchReport {
  startedAt: string;
  machine: { cpus: number; node: string };
  volume: Record<string, number>;
  secondsPerRun: number;
  /** Runs per read cell, the targets' order reversed each time (createPayment runs once). */
  readRounds: number;
  /** Distinct callers (JWT subjects) our gateway's requests act for in turn (--callers). */
  callers: number;
  /** createPayment runs last longer (see --mutation-seconds). */
  mutationSecondsPerRun: number;
  /** The commit whose gateway ran as `paygraph-baseline` (--baseline). */
  baseline?: { ref: string; commit: string };
  measurements: Measurement[];
  /** Our gateway's rate over each other target's, per cell: derived from `measurements`, written for readers of the JSON. */
  ratios?: CellRatios[];
}

/** One cell's ratios, ours / the target (absent when that target did not run the cell). */
export interface CellRatios {
  operation: string;
  clients: number;
  oursOver: Record<string, number>;
}

/** This target's rate over another's at the same operation and client count (null when absent). */
export function ratio(report: BenchReport, m: Measurement, other: string): number | null {
  const base = report.measurements.find((x) => x.operation === m.operation && x.clients === m.clients && x.target === other);
  return base && base.requestsPerSecond > 0 ? m.requestsPerSecond / base.requestsPerSecond : null;
}

export function cellRatios(report: BenchReport): CellRatios[] {
  return report.measurements
    .filter((m) => m.target === 'paygraph')
    .map((m) => {
      const oursOver: Record<string, number> = {};
      for (const other of report.measurements.filter((x) => x.operation === m.operation && x.clients === m.clients && x.target !== 'paygraph')) {
        const r = ratio(report, m, other.target);
        if (r !== null) oursOver[other.target] = Number(r.toFixed(3));
      }
      return { operation: m.operation, clients: m.clients, oursOver };
    });
}

const fmt = (value: number | null, digits = 2) => (value === null ? '-' : value.toFixed(digits));

export function formatTable(report: BenchReport): string {
  // Ours over our gateway at the baseline commit, only in a run that had one.
  const versus = ['hive', 'hive-router', 'direct', ...(report.baseline ? ['paygraph-baseline'] : [])];
  const header = ['operation', 'clients', 'target', 'req/s', 'p50 ms', 'p99 ms', 'errors', ...versus.map((t) => (t === 'paygraph-baseline' ? 'x baseline' : `x ${t}`)), 'cpu ms/op: db+subgraphs+gateway', 'db cmds/op'];
  const subgraphs = ['accounts', 'payments', 'risk', 'compliance'];
  const cpu = (m: Measurement) => {
    const c = m.cpuMsPerRequest;
    if (c.ferretdb === undefined) return '-';
    const sub = subgraphs.reduce((sum, name) => sum + (c[name] ?? 0), 0);
    return `${c.ferretdb.toFixed(0)}+${sub.toFixed(0)}+${m.target === 'direct' ? 0 : (c[m.target] ?? 0).toFixed(1)}`;
  };
  const rows = report.measurements.map((m) => [
    m.operation, String(m.clients), m.target, fmt(m.requestsPerSecond, 1), fmt(m.p50Ms, 0), fmt(m.p99Ms, 0),
    m.completed === 0 ? `${m.errors} (none answered)` : String(m.errors),
    ...versus.map((t) => fmt(ratio(report, m, t))), cpu(m),
    Object.entries(m.dbCommandsPerRequest).filter(([, n]) => n > 0.05).map(([name, n]) => `${name} ${n.toFixed(1)}`).join(', ') || '0',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 || i === header.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const COLOURS: Record<string, string> = { paygraph: '#1f77b4', 'paygraph-baseline': '#aec7e8', apollo: '#ff7f0e', hive: '#2ca02c', 'hive-router': '#98df8a', proxy: '#bcbd22', direct: '#7f7f7f' };

/** Grouped bars of req/s per operation and client count, one bar per target, as SVG. */
export function chartSvg(report: BenchReport): string {
  const groups = [...new Set(report.measurements.map((m) => `${m.operation}|${m.clients}`))];
  const targets = [...new Set(report.measurements.map((m) => m.target))];
  const width = 140 + groups.length * (targets.length * 22 + 26);
  const height = 420;
  const plotTop = 50;
  const plotBottom = 330;
  const max = Math.max(1, ...report.measurements.map((m) => m.requestsPerSecond));
  const y = (v: number) => plotBottom - (v / max) * (plotBottom - plotTop);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="20" y="25" font-size="16">Requests per second by gateway (${report.startedAt}, ${report.machine.cpus} CPUs, ${report.secondsPerRun}s per read run, ${report.mutationSecondsPerRun}s per createPayment run)</text>`,
    `<line x1="60" y1="${plotBottom}" x2="${width - 20}" y2="${plotBottom}" stroke="black"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(`<text x="55" y="${y(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`, `<line x1="60" y1="${y(v)}" x2="${width - 20}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  groups.forEach((group, g) => {
    const [operation, clients] = group.split('|');
    const x0 = 80 + g * (targets.length * 22 + 26);
    targets.forEach((target, t) => {
      const m = report.measurements.find((x) => x.operation === operation && String(x.clients) === clients && x.target === target);
      if (!m) return;
      const top = y(m.requestsPerSecond);
      parts.push(`<rect x="${x0 + t * 22}" y="${top}" width="20" height="${plotBottom - top}" fill="${COLOURS[target] ?? '#999'}"/>`);
    });
    parts.push(`<text x="${x0 + (targets.length * 22) / 2}" y="${plotBottom + 18}" text-anchor="middle">${operation}</text>`);
    parts.push(`<text x="${x0 + (targets.length * 22) / 2}" y="${plotBottom + 34}" text-anchor="middle">${clients} clients</text>`);
  });
  targets.forEach((target, t) => {
    parts.push(`<rect x="${80 + t * 110}" y="${height - 30}" width="14" height="14" fill="${COLOURS[target] ?? '#999'}"/>`, `<text x="${98 + t * 110}" y="${height - 18}">${target}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes `<name>.json`, `<name>.svg` and `<name>.png` under `dir`; returns the paths. */
export async function writeReport(report: BenchReport, dir: string, name: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const svg = chartSvg(report);
  const paths = [join(dir, `${name}.json`), join(dir, `${name}.svg`), join(dir, `${name}.png`)];
  writeFileSync(paths[0], `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(paths[1], svg);
  // A PNG without a browser: resvg renders the SVG (a dev dependency; the SVG stays if it is absent).
  try {
    const { Resvg } = await import('@resvg/resvg-js');
    writeFileSync(paths[2], new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng());
  } catch (error) {
    console.error(`PNG not written (${(error as Error).message}); the SVG is`);
    paths.pop();
  }
  return paths;
}
