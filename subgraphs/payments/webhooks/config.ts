import { createHash } from 'node:crypto';
import { ConfigError, envBool, envInt, envOptional } from '../../../runtime/config';
import type { RetrySchedule } from './schedule';

/** The webhooks' configuration, read from the environment once at start. */
export interface WebhooksConfig {
  /** Whether this process delivers webhooks at all (PAYGRAPH_WEBHOOKS_DELIVER, default true); endpoints can be managed either way. */
  deliver: boolean;
  /** NODE_ENV=production: https only, the address guard on, a real secret key required. */
  production: boolean;
  /**
   * The AES-256-GCM key that seals signing secrets at rest (PAYGRAPH_WEBHOOK_SECRET_KEY: 32 bytes
   * as 64 hex digits or base64). Required in production; a fixed development key elsewhere.
   */
  secretKey: Buffer;
  /**
   * Refuse loopback, private, link-local and metadata addresses (PAYGRAPH_WEBHOOK_ADDRESS_GUARD,
   * default on in production, off elsewhere).
   */
  addressGuard: boolean;
  /** Loopback receivers allowed even with the guard on, for tests (PAYGRAPH_WEBHOOK_ALLOW_LOOPBACK, default false). */
  allowLoopback: boolean;
  /** One POST's whole budget, connect to last byte (PAYGRAPH_WEBHOOK_TIMEOUT_MS, default 10000). */
  timeoutMs: number;
  /**
   * How long one process owns an attempt (PAYGRAPH_WEBHOOK_LEASE_MS, default 60000, at least
   * twice the timeout): a process killed mid-send has its attempt taken over after this.
   */
  leaseMs: number;
  /** Retries: PAYGRAPH_WEBHOOK_RETRY_BASE_MS (10000), PAYGRAPH_WEBHOOK_RETRY_MAX_MS (21600000 = 6 h), PAYGRAPH_WEBHOOK_GIVE_UP_AFTER_MS (259200000 = 3 days). */
  retry: RetrySchedule;
  /** How long a rotated-out secret still signs (PAYGRAPH_WEBHOOK_ROTATION_GRACE_MS, default 86400000 = 24 h). */
  rotationGraceMs: number;
  /** Re-read the log and the due deliveries this often without a notification (PAYGRAPH_WEBHOOK_POLL_MS, default 1000). */
  pollMs: number;
  /** POSTs in flight at once per process (PAYGRAPH_WEBHOOK_CONCURRENCY, default 64). */
  concurrency: number;
}

/** Not a secret: what development and tests seal with when no key is configured. */
const DEV_KEY = createHash('sha256').update('paygraph-dev-webhook-secret-key').digest();

function parseKey(raw: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError('PAYGRAPH_WEBHOOK_SECRET_KEY must be 32 bytes (64 hex digits or base64)');
  return key;
}

export function loadWebhooksConfig(): WebhooksConfig {
  const production = process.env.NODE_ENV === 'production';
  const rawKey = envOptional('PAYGRAPH_WEBHOOK_SECRET_KEY');
  if (production && rawKey === undefined) throw new ConfigError('PAYGRAPH_WEBHOOK_SECRET_KEY is required in production');
  const timeoutMs = envInt('PAYGRAPH_WEBHOOK_TIMEOUT_MS', 10_000, { min: 50, max: 120_000 });
  const leaseMs = envInt('PAYGRAPH_WEBHOOK_LEASE_MS', 60_000, { min: 100 });
  if (leaseMs < 2 * timeoutMs) throw new ConfigError('PAYGRAPH_WEBHOOK_LEASE_MS must be at least twice PAYGRAPH_WEBHOOK_TIMEOUT_MS');
  const baseMs = envInt('PAYGRAPH_WEBHOOK_RETRY_BASE_MS', 10_000, { min: 1 });
  const maxMs = envInt('PAYGRAPH_WEBHOOK_RETRY_MAX_MS', 6 * 3600_000, { min: 1 });
  if (maxMs < baseMs) throw new ConfigError('PAYGRAPH_WEBHOOK_RETRY_MAX_MS must be at least PAYGRAPH_WEBHOOK_RETRY_BASE_MS');
  return {
    deliver: envBool('PAYGRAPH_WEBHOOKS_DELIVER', true),
    production,
    secretKey: rawKey === undefined ? DEV_KEY : parseKey(rawKey),
    addressGuard: envBool('PAYGRAPH_WEBHOOK_ADDRESS_GUARD', production),
    allowLoopback: envBool('PAYGRAPH_WEBHOOK_ALLOW_LOOPBACK', false),
    timeoutMs,
    leaseMs,
    retry: { baseMs, maxMs, giveUpAfterMs: envInt('PAYGRAPH_WEBHOOK_GIVE_UP_AFTER_MS', 3 * 24 * 3600_000, { min: 1 }) },
    rotationGraceMs: envInt('PAYGRAPH_WEBHOOK_ROTATION_GRACE_MS', 24 * 3600_000, { min: 0 }),
    pollMs: envInt('PAYGRAPH_WEBHOOK_POLL_MS', 1_000, { min: 10 }),
    concurrency: envInt('PAYGRAPH_WEBHOOK_CONCURRENCY', 64, { min: 1, max: 10_000 }),
  };
}
