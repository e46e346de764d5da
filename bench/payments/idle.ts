import { snapshot } from '../gateways/cpu';

/**
 * Waits until the benchmark's processes are idle: two windows in a row in which they used,
 * together, less than `coreShare` of one core. Work a run left behind (the auditor catching
 * up, events still being published) then belongs to that run's CPU figures and not to the
 * next run's. Counting database commands would not do: the auditor polls even when idle.
 * Returns whether idleness came before `maxMs`.
 */
export async function untilIdle(pids: Record<string, number | undefined>, options: { windowMs?: number; coreShare?: number; maxMs?: number } = {}): Promise<boolean> {
  const { windowMs = 300, coreShare = 0.1, maxMs = 60_000 } = options;
  const total = () => Object.values(snapshot(pids)).reduce<number>((sum, ms) => sum + (ms ?? 0), 0);
  const deadline = Date.now() + maxMs;
  let last = total();
  let quiet = 0;
  while (quiet < 2) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const now = total();
    quiet = now - last < windowMs * coreShare ? quiet + 1 : 0;
    last = now;
  }
  return true;
}
