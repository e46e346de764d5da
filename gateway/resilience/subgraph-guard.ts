import { CircuitBreaker, type CircuitState } from './circuit-breaker';
import type { ResilienceConfig } from './config';
import { SubgraphUnavailableError } from './unavailable';

/** Full-jitter exponential backoff: a random delay in [0, base·2^attempt). */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * baseMs * 2 ** attempt);
}

/**
 * What stands between the gateway and one subgraph: its circuit breakers and the retry
 * policy. Only unavailability counts as failure (a GraphQL error is an answer). Reads that
 * could not reach the subgraph are retried with backoff while the circuit lets them; a
 * timed-out read is not (its time budget is spent) and a mutation never is: it may have run.
 *
 * Reads and mutations have a circuit each: a burst of slow writes (payments queueing behind
 * the ledger) must not open the circuit that reads go through. A subgraph that is down fails
 * both kinds, and each circuit opens on its own failures.
 */
export class SubgraphGuard {
  private readonly reads: CircuitBreaker;
  private readonly writes: CircuitBreaker;

  constructor(
    private readonly config: Pick<ResilienceConfig, 'retries' | 'retryBackoffMs' | 'breakerFailures' | 'breakerOpenMs'>,
    now?: () => number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    const options = { failureThreshold: config.breakerFailures, openMs: config.breakerOpenMs, now };
    this.reads = new CircuitBreaker(options);
    this.writes = new CircuitBreaker(options);
  }

  /** The circuit reads go through. */
  get state(): CircuitState {
    return this.reads.state;
  }

  /** The circuit mutations go through. */
  get writeState(): CircuitState {
    return this.writes.state;
  }

  /** Runs a read (`read`: retried, on the read circuit) or a mutation (never retried, on the write circuit). */
  async run<T>(read: boolean, call: () => Promise<T>): Promise<T> {
    const breaker = read ? this.reads : this.writes;
    for (let attempt = 0; ; attempt++) {
      if (!breaker.tryAcquire()) throw new SubgraphUnavailableError('circuit-open');
      try {
        const result = await call();
        breaker.onSuccess();
        return result;
      } catch (error) {
        if (!(error instanceof SubgraphUnavailableError)) {
          // The subgraph answered (e.g. 401): it is up, whatever the answer.
          breaker.onSuccess();
          throw error;
        }
        breaker.onFailure();
        if (!read || error.reason === 'timeout' || attempt >= this.config.retries) throw error;
        await this.sleep(backoffDelay(attempt, this.config.retryBackoffMs));
      }
    }
  }
}
