/**
 * Answers counted by code: a payment's status (SETTLED, FAILED, …) or the error's
 * `extensions.code`, with the first message seen for each error code so a run says what
 * went wrong, not only how often.
 */
export class Outcomes {
  readonly counts = new Map<string, number>();
  readonly firstMessages = new Map<string, string>();

  add(code: string, message?: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    if (message !== undefined && !this.firstMessages.has(code)) this.firstMessages.set(code, message.slice(0, 200));
  }

  count(code: string): number {
    return this.counts.get(code) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** `SETTLED 28, FAILED 1, SUBGRAPH_TIMEOUT 1`, most frequent first. */
  toString(): string {
    if (this.counts.size === 0) return 'none';
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ');
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
