import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npx tsx bench/gateways/profile-top.ts <dir> [count]`: the functions with the most self time
 * in each V8 CPU profile (`node --cpu-prof`, as `npm run bench -- --profile` writes them).
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export function topSelfTime(profile: CpuProfile, count: number): { name: string; ms: number; share: number }[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  (profile.samples ?? []).forEach((id, i) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0)));
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byNode.get(id)!.callFrame;
    const where = frame.url ? `${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/issue-\d+\//, '')}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    total += micros;
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => ({ name, ms: micros / 1000, share: micros / total }));
}

/** Self time by package (node_modules/<name>), by our own top folder, or by Node/V8 internals. */
export function selfTimeByPackage(profile: CpuProfile): { name: string; ms: number; share: number }[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  let total = 0;
  (profile.samples ?? []).forEach((id, i) => {
    const frame = byNode.get(id)!.callFrame;
    const micros = profile.timeDeltas?.[i] ?? 0;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)?.[1];
    const own = /\/issue-\d+\/([^/]+)\//.exec(frame.url)?.[1] ?? /\/work\/[^/]+\/([^/]+)\//.exec(frame.url)?.[1];
    const name = pkg ?? (own ? `paygraph/${own}` : frame.url.startsWith('node:') ? 'node internals' : frame.functionName.startsWith('(') ? frame.functionName : 'native/V8');
    totals.set(name, (totals.get(name) ?? 0) + micros);
    total += micros;
  });
  return [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([name, micros]) => ({ name, ms: micros / 1000, share: micros / total }));
}

if (require.main === module) {
  const dir = process.argv[2] ?? join(__dirname, '..', 'results', 'profiles');
  const count = Number(process.argv[3] ?? 15);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    console.log(`\n${file} (${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled)`);
    for (const row of topSelfTime(profile, count)) console.log(`  ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}`);
    console.log('  by package:');
    for (const row of selfTimeByPackage(profile).slice(0, 12)) console.log(`  ${(row.share * 100).toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(7)} ms  ${row.name}`);
  }
}
