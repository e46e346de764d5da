import { envInt } from './config';
import type { Logger } from './logger';

/** How a process stops on SIGTERM/SIGINT; read from the environment once, at start. */
export interface ShutdownConfig {
  /**
   * The whole budget from the signal to the exit: new work is refused at once, in-flight
   * requests finish, subscriptions complete with a reason, and whatever is still running
   * when it runs out is cut (exit code 1). Env SHUTDOWN_GRACE_MS, default 10000.
   */
  graceMs: number;
  /** Part of the budget for completing subscriptions (graceMs × 0.3): clients are handed what is queued for them. */
  subscriptionsMs: number;
  /** Part of the budget for in-flight HTTP requests before their connections are closed (graceMs × 0.6). */
  drainMs: number;
}

export function readShutdownConfig(): ShutdownConfig {
  const graceMs = envInt('SHUTDOWN_GRACE_MS', 10_000, { min: 100, max: 600_000 });
  return { graceMs, subscriptionsMs: Math.floor(graceMs * 0.3), drainMs: Math.floor(graceMs * 0.6) };
}

/**
 * Runs `stop` on the first SIGTERM or SIGINT and exits 0 when it is done, or 1 when it
 * fails or outlasts the grace period; a second signal changes nothing.
 */
export function stopOnTerminationSignals(stop: () => Promise<void>, log: Logger, config: ShutdownConfig): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    log.info({ signal, graceMs: config.graceMs }, 'shutting down: refusing new work, finishing in-flight work');
    const force = setTimeout(() => {
      log.error({ ms: Date.now() - started }, 'grace period over with work unfinished; exiting');
      process.exit(1);
    }, config.graceMs);
    force.unref();
    stop().then(
      () => {
        log.info({ ms: Date.now() - started }, 'stopped cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error, ms: Date.now() - started }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
