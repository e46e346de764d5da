import { ErrorCode, PaygraphError } from './errors';

/**
 * Back-pressure for expensive writes: at most `maxActive` run at once, at most `maxQueued`
 * wait behind them (first come, first served), and one more is refused at once with
 * LIMIT_EXCEEDED and a retry hint, instead of piling onto the database until every caller
 * times out. A refused write has changed nothing.
 */
export interface AdmissionLimits {
  maxActive: number;
  maxQueued: number;
  /** The hint a refused caller gets (`extensions.retryAfterMs`). */
  retryAfterMs: number;
}

export class AdmissionQueue {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly what: string,
    private readonly onRefused: () => void = () => {},
  ) {}

  get activeCount(): number {
    return this.active;
  }

  get queuedCount(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limits.maxActive) {
      if (this.waiting.length >= this.limits.maxQueued) {
        this.onRefused();
        throw new PaygraphError(ErrorCode.LIMIT_EXCEEDED, `too many ${this.what} in progress; retry after ${this.limits.retryAfterMs} ms`, { retryAfterMs: this.limits.retryAfterMs });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter (the count stays), or frees up.
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}
