/** When a failed delivery is tried again: exponential backoff with jitter, given up after a while. */
export interface RetrySchedule {
  /** Delay before the first retry (doubles per attempt). */
  baseMs: number;
  /** Longest delay between two attempts. */
  maxMs: number;
  /** From the first attempt: past this, the delivery is given up and its endpoint disabled. */
  giveUpAfterMs: number;
}

/**
 * The next attempt after `attempts` failed ones, or null to give up. The delay is drawn from
 * [half, whole] of the capped exponential: receivers that failed together do not all come back
 * at the same instant, and no delay is shorter than half the schedule promises.
 */
export function nextAttemptAt(schedule: RetrySchedule, attempts: number, firstAttemptAt: Date, now: Date, random: () => number = Math.random): Date | null {
  const exponential = schedule.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40);
  const capped = Math.min(schedule.maxMs, exponential);
  const delay = Math.round(capped / 2 + (random() * capped) / 2);
  const at = now.getTime() + delay;
  return at - firstAttemptAt.getTime() > schedule.giveUpAfterMs ? null : new Date(at);
}
