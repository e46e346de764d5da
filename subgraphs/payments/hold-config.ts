import { ConfigError, envInt } from '../../runtime/config';
import type { HoldsConfig } from './holds';

const DAY_MS = 86_400_000;

/** The holds settings (holds.ts HoldsConfig), read from the environment once. */
export function loadHoldsConfig(): HoldsConfig {
  const config = {
    defaultTtlMs: envInt('PAYGRAPH_HOLD_DEFAULT_TTL_MS', 7 * DAY_MS, { min: 1_000 }),
    maxTtlMs: envInt('PAYGRAPH_HOLD_MAX_TTL_MS', 30 * DAY_MS, { min: 1_000 }),
    sweepIntervalMs: envInt('PAYGRAPH_HOLD_SWEEP_INTERVAL_MS', 5_000),
    sweepLeaseMs: envInt('PAYGRAPH_HOLD_SWEEP_LEASE_MS', 30_000, { min: 100 }),
  };
  if (config.defaultTtlMs > config.maxTtlMs) throw new ConfigError('PAYGRAPH_HOLD_DEFAULT_TTL_MS must not exceed PAYGRAPH_HOLD_MAX_TTL_MS');
  return config;
}
