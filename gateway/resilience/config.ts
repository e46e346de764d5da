import { envInt, SUBGRAPH_NAMES, type SubgraphName } from '../../runtime/config';

/** How the gateway treats a subgraph that fails or stalls; read from the environment once. */
export interface ResilienceConfig {
  /**
   * Fetch timeouts in ms for particular subgraphs, overriding SUBGRAPH_TIMEOUT_MS for them:
   * env ACCOUNTS_TIMEOUT_MS, PAYMENTS_TIMEOUT_MS, RISK_TIMEOUT_MS, COMPLIANCE_TIMEOUT_MS (unset: the common one).
   */
  subgraphTimeoutMs: Partial<Record<SubgraphName, number>>;
  /** Extra attempts for a read (query or `_entities` fetch) that could not reach its subgraph; mutations are never retried. Env SUBGRAPH_RETRIES, default 2. */
  retries: number;
  /** First retry delay in ms; each further retry doubles it, with full jitter. Env SUBGRAPH_RETRY_BACKOFF_MS, default 50. */
  retryBackoffMs: number;
  /** Consecutive failed calls that open a subgraph's circuit. Env SUBGRAPH_BREAKER_FAILURES, default 5. */
  breakerFailures: number;
  /**
   * How long an open circuit fails fast before one probe call goes through. Env
   * SUBGRAPH_BREAKER_OPEN_MS, default 2000: well inside the 5 s recovery the contract promises.
   */
  breakerOpenMs: number;
}

/** GatewayConfig.resilience: read by readGatewayConfig, at start, and nowhere else. */
export function readResilienceConfig(): ResilienceConfig {
  const subgraphTimeoutMs: Partial<Record<SubgraphName, number>> = {};
  for (const name of SUBGRAPH_NAMES) {
    const ms = envInt(`${name.toUpperCase()}_TIMEOUT_MS`, 0, { max: 600_000 });
    if (ms > 0) subgraphTimeoutMs[name] = ms;
  }
  return {
    subgraphTimeoutMs,
    retries: envInt('SUBGRAPH_RETRIES', 2, { max: 10 }),
    retryBackoffMs: envInt('SUBGRAPH_RETRY_BACKOFF_MS', 50, { max: 10_000 }),
    breakerFailures: envInt('SUBGRAPH_BREAKER_FAILURES', 5, { min: 1, max: 1000 }),
    breakerOpenMs: envInt('SUBGRAPH_BREAKER_OPEN_MS', 2000, { min: 10, max: 60_000 }),
  };
}
