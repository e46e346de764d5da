/** Where a circuit breaker is: letting calls through, failing fast, or letting one probe through. */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before one probe call may go through. */
  openMs: number;
  /** The clock; tests pass their own. */
  now?: () => number;
}

/**
 * One per subgraph: after `failureThreshold` consecutive failures it stops calling the
 * subgraph for `openMs` (callers fail fast instead of piling up on a dead host), then lets a
 * single probe through; the probe's outcome closes it again or re-opens it. With traffic,
 * recovery is noticed at most `openMs` plus one call after the subgraph returns, and at most
 * one call per `openMs` reaches a subgraph that is still down.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private probeStartedAt = 0;
  private current: CircuitState = 'closed';
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.current;
  }

  /** True when a call may go to the subgraph now; the caller must then report its outcome. */
  tryAcquire(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.now() - this.openedAt < this.options.openMs) return false;
      this.current = 'half-open';
      this.probing = false;
    }
    // Half-open: one probe at a time; everyone else fails fast until it reports. A probe still
    // out after another window (a slow mutation, a hung host) does not hold the door shut: one
    // more may go, so a recovered subgraph is noticed within about one window.
    if (this.probing && this.now() - this.probeStartedAt < this.options.openMs) return false;
    this.probing = true;
    this.probeStartedAt = this.now();
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.probing = false;
    this.current = 'closed';
  }

  onFailure(): void {
    this.failures += 1;
    this.probing = false;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.now();
    }
  }
}
