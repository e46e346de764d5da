import { CircuitBreaker, type CircuitState } from './circuit-breaker';
import type { ResilienceConfig } from './config';
import { SubgraphUnavailableError } from './unavailable';

/** Full-jitter exponential backoff: a random delay in [0, base·2^attempt). */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * baseMs * 2 ** attempt);
}

/**
 * What stands between the gateway and one subgraph: its circuit breaker and the retry
 * policy. Only unavailability counts as failure (a GraphQL error is an answer). Reads that
 * could not reach the subgraph are retried with backoff while the circuit lets them; a
 * timed-out read is not (its time budget is spent) and a mutation never is: it may have run.
 */
export class SubgraphGuard {
  private readonly breaker: CircuitBreaker;

  constructor(
    private readonly config: Pick<ResilienceConfig, 'retries' | 'retryBackoffMs' | 'breakerFailures' | 'breakerOpenMs'>,
    now?: () => number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.breaker = new CircuitBreaker({ failureThreshold: config.breakerFailures, openMs: config.breakerOpenMs, now });
  }

  get state(): CircuitState {
    return this.breaker.state;
  }

  async run<T>(retryable: boolean, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (!this.breaker.tryAcquire()) throw new SubgraphUnavailableError('circuit-open');
      try {
        const result = await call();
        this.breaker.onSuccess();
        return result;
      } catch (error) {
        if (!(error instanceof SubgraphUnavailableError)) {
          // The subgraph answered (e.g. 401): it is up, whatever the answer.
          this.breaker.onSuccess();
          throw error;
        }
        this.breaker.onFailure();
        if (!retryable || error.reason === 'timeout' || attempt >= this.config.retries) throw error;
        await this.sleep(backoffDelay(attempt, this.config.retryBackoffMs));
      }
    }
  }
}
