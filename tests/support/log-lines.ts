import type { Readable } from 'node:stream';

/** Collects a process's JSON log lines from its stdout (lines that are not JSON are kept aside). */
export function collectLogLines(stream: Readable | null | undefined): { lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  let rest = '';
  stream?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.trim()) continue;
      raw.push(line);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line (e.g. a stack trace printed by a dependency)
      }
    }
  });
  return { lines, raw };
}
