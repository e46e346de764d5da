import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { HoldRepository } from './hold-repository';
import type { PaymentHolds } from './hold-service';
import type { HoldsConfig } from './holds';

const JOB = 'hold-expiry';
/** Payments looked at per pass; the next pass takes the rest. */
const PASS_LIMIT = 200;
/** A committed close older than this is taken for interrupted (a live one takes well under a second). */
const INTERRUPTED_CLOSE_MS = 5_000;

/**
 * Releases holds not captured by their expiresAt (EXPIRED), and finishes closes a crash
 * interrupted. One instance sweeps at a time (a lease on the job); every close is safe to
 * repeat anyway, so a lease lost mid-pass costs nothing but repeated work.
 */
export class HoldSweeper {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private closed = false;

  constructor(
    private readonly repository: HoldRepository,
    private readonly holds: PaymentHolds,
    private readonly config: HoldsConfig,
    private readonly log: Logger,
  ) {}

  /**
   * One pass: how many payments it closed; 0 when nothing is due or without the lease. The
   * lease is taken only when something is due, so an idle process writes nothing; the list may
   * be a moment old by then, which costs nothing, since every close is safe to repeat.
   */
  async sweep(now = new Date()): Promise<number> {
    const due = await this.repository.authorizationsToSweep(now, new Date(now.getTime() - INTERRUPTED_CLOSE_MS), PASS_LIMIT);
    if (due.length === 0) return 0;
    if (!(await this.repository.acquireLease(JOB, this.owner, now, this.config.sweepLeaseMs))) return 0;
    let closed = 0;
    for (const p of due) {
      if (this.closed) break;
      try {
        await this.holds.expireOrFinish(p);
        closed++;
      } catch (error) {
        this.log.warn({ err: error, paymentId: p._id }, 'hold not closed by the sweeper; will retry');
      }
    }
    return closed;
  }

  start(): void {
    if (this.config.sweepIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      // One pass at a time.
      if (this.running || this.closed) return;
      this.running = this.sweep()
        .catch((error) => this.log.error({ err: error }, 'hold sweep failed'))
        .finally(() => (this.running = undefined));
    }, this.config.sweepIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.repository.releaseLease(JOB, this.owner).catch(() => undefined);
  }
}
