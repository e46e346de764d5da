import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BurstResult } from './burst';
import type { CommandCount } from './command-count';
import type { RawInserts } from './raw-inserts';
import type { CellResult } from './throughput';
import type { SubscriptionRunResult } from './with-subscriptions';

/** Everything one run of `npm run bench:payments` measured: printed as tables, written as JSON. */
export interface PaymentsReport {
  startedAt: string;
  machine: { cpus: number; node: string };
  store: string;
  options: Record<string, unknown>;
  /** The compliance auditor during the throughput cells, the burst and the subscription run. */
  auditor: { on: boolean; pollMs: number };
  /** One payment at a time: exactly, without the auditor; approximately, with it. */
  commands: { auditorOff: CommandCount; auditorOn?: CommandCount };
  cells: (CellResult & { dbCommandsPerSettled: Record<string, number>; rawInsertsPerSecond: number | null; fractionOfRawInserts: number | null })[];
  rawInserts?: RawInserts;
  burst?: BurstResult;
  subscriptions?: SubscriptionRunResult;
}

const SUBGRAPHS = ['accounts', 'payments', 'risk', 'compliance'];
const PROCESSES = ['gateway', ...SUBGRAPHS, 'auditor', 'ferretdb'];

const fixed = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits));

/** Columns padded to their widest cell: figures right-aligned, the `text` columns left-aligned. */
export function formatTable(header: string[], rows: string[][], text: number[] = [0]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (text.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The raw insert rate a cell is read against: the most writers not above its clients (else the fewest). */
export function rawRateFor(raw: RawInserts | undefined, clients: number): number | null {
  if (!raw || raw.results.length === 0) return null;
  const sorted = [...raw.results].sort((a, b) => a.writers - b.writers);
  return ([...sorted].reverse().find((r) => r.writers <= clients) ?? sorted[0]).insertsPerSecond;
}

function commandRow(label: string, perPayment: Record<string, number>): string[] {
  return [label, ...SUBGRAPHS.map((name) => fixed(perPayment[name])), fixed(perPayment.total)];
}

export function formatReport(report: PaymentsReport): string {
  const out: string[] = [];
  const auditor = report.auditor.on ? `auditor on, polling every ${report.auditor.pollMs} ms` : 'auditor off';
  if (report.cells.length > 0) {
    out.push(`settled payments per second (closed loop, ${auditor}; ${report.store})`);
    out.push(
      formatTable(
        ['clients', 'payments', 'seconds', 'settled/s', 'p50 ms', 'p99 ms', '÷ raw inserts', 'outcomes'],
        report.cells.map((c) => [String(c.clients), String(c.payments), fixed(c.seconds), fixed(c.settledPerSecond), fixed(c.p50Ms, 0), fixed(c.p99Ms, 0), fixed(c.fractionOfRawInserts, 3), c.outcomes.toString()]),
        [0, 7],
      ),
    );
    const shown = PROCESSES.filter((p) => report.cells.some((c) => c.cpuMsPerSettled[p] !== undefined));
    out.push('', 'CPU ms per settled payment, by process (the work left behind until idle included)');
    out.push(
      formatTable(
        ['clients', ...shown, 'total'],
        report.cells.map((c) => [String(c.clients), ...shown.map((p) => fixed(c.cpuMsPerSettled[p])), fixed(shown.reduce((sum, p) => sum + (c.cpuMsPerSettled[p] ?? 0), 0))]),
      ),
    );
  }
  const { auditorOff, auditorOn } = report.commands;
  out.push('', 'database commands per settled payment (target: total <= 20)');
  const sample = (label: string, count: CommandCount) => commandRow(`one at a time, ${label} (${count.approximate ? 'about' : 'exact'}, ${count.payments} payments: ${count.outcomes})`, count.perPayment);
  const commandRows = [sample('auditor off', auditorOff)];
  if (auditorOn) commandRows.push(sample('auditor on', auditorOn));
  for (const c of report.cells) commandRows.push(commandRow(`under load, ${c.clients} clients (${auditor})`, c.dbCommandsPerSettled));
  out.push(formatTable(['counted', ...SUBGRAPHS, 'total'], commandRows));
  for (const [label, count] of [['auditor off', auditorOff], ['auditor on', auditorOn]] as const) {
    const idle = Object.entries(count?.idlePerSecond ?? {}).filter(([, rate]) => rate > 0);
    if (idle.length > 0) out.push(`  (${label}: idle commands subtracted, per second: ${idle.map(([name, rate]) => `${name} ${rate.toFixed(1)}`).join(', ')})`);
  }
  if (report.rawInserts) {
    const raw = report.rawInserts;
    out.push('', `raw single-document inserts on the same store (${raw.documentBytes}-byte payment document, one unique index)`);
    out.push(formatTable(['writers', 'inserts', 'inserts/s', 'p50 ms', 'p99 ms', 'db cpu ms/insert'], raw.results.map((r) => [String(r.writers), String(r.inserts), fixed(r.insertsPerSecond), fixed(r.p50Ms, 1), fixed(r.p99Ms, 1), fixed(r.dbCpuMsPerInsert, 2)])));
  }
  if (report.burst) {
    const b = report.burst;
    out.push('', `burst: ${b.size} createPayment at once (${auditor})`);
    out.push(`  duration          ${b.seconds.toFixed(2)} s (${(b.outcomes.count('SETTLED') / b.seconds).toFixed(1)} settled/s), payment p50 ${fixed(b.paymentP50Ms, 0)} ms, p99 ${fixed(b.paymentP99Ms, 0)} ms`);
    out.push(`  outcomes          ${b.outcomes}`);
    out.push(`  reads meanwhile   ${b.reads}, p50 ${fixed(b.readP50Ms, 0)} ms, p99 ${fixed(b.readP99Ms, 0)} ms, by outcome: ${b.readOutcomes}`);
  }
  if (report.subscriptions) {
    const s = report.subscriptions;
    out.push('', `payments at ${s.targetPaymentsPerSecond}/s with ${s.subscribers} subscribers on the account (${auditor})`);
    out.push(`  payments          ${s.outcomes.total} in ${s.seconds.toFixed(1)} s, p50 ${fixed(s.paymentP50Ms, 0)} ms, p99 ${fixed(s.paymentP99Ms, 0)} ms, outcomes ${s.outcomes}`);
    out.push(`  deliveries        ${s.deliveries} (${s.eventsPerSubscriber.toFixed(1)} per subscriber), subscription failures ${s.failures}`);
    out.push(`  event to client   p50 ${fixed(s.eventP50Ms, 0)} ms, p99 ${fixed(s.eventP99Ms, 0)} ms, max ${fixed(s.eventMaxMs, 0)} ms`);
  }
  const messages = collectFirstMessages(report);
  if (messages.length > 0) out.push('', 'first message per error code', ...messages.map((m) => `  ${m}`));
  return out.join('\n');
}

function collectFirstMessages(report: PaymentsReport): string[] {
  const seen = new Map<string, string>();
  const sources = [report.commands.auditorOff.outcomes, report.commands.auditorOn?.outcomes, ...report.cells.map((c) => c.outcomes), report.burst?.outcomes, report.burst?.readOutcomes, report.subscriptions?.outcomes];
  for (const outcomes of sources) for (const [code, message] of outcomes?.firstMessages ?? []) if (!seen.has(code)) seen.set(code, message);
  return [...seen].map(([code, message]) => `${code}: ${message}`);
}

export function writeReport(report: PaymentsReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'payments.json');
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
