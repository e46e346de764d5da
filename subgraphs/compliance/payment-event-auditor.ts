import type { Logger } from 'pino';
import { ErrorCode, isPaygraphError } from '../../runtime/errors';
import { serviceIdentity } from '../../runtime/identity';
import { InternalClient } from '../../runtime/internal-client';
import type { ComplianceRepository } from './repository';

const EVENTS_AFTER = `query PaymentEventsAfter($after: String, $first: Int) {
  paymentEventsAfter(after: $after, first: $first) { cursor status previousStatus occurredAt payment { id } }
}`;

interface PaymentEvent {
  cursor: string;
  status: string;
  previousStatus: string | null;
  occurredAt: string;
  payment: { id: string };
}

const STATE = 'payment-events';

/**
 * Pulls payments' event log into the audit trail. Each event is appended once (its cursor
 * is the record's unique key), the last audited cursor is stored, and an unreachable
 * payments subgraph only delays the next poll.
 */
export class PaymentEventAuditor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private paymentsDown = false;

  constructor(
    private readonly repository: ComplianceRepository,
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly batch: number,
    private readonly client = new InternalClient(serviceIdentity('compliance')),
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pollOnce()
        .then(() => undefined, (error: unknown) => this.onError(error))
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private onError(error: unknown): void {
    if (isPaygraphError(error) && error.code === ErrorCode.SUBGRAPH_UNAVAILABLE) {
      if (!this.paymentsDown) this.log.warn('payments unreachable; payment events will be audited when it is back');
      this.paymentsDown = true;
      return;
    }
    this.log.error({ err: error }, 'auditing payment events failed');
  }

  /**
   * Audits every event after the stored cursor; returns how many it appended or re-saw. A page
   * of events is one append (one insert, shared with the audits of the moment), and the cursor
   * is saved once, after the last page appended: a crash in between only re-sees events, and
   * each is audited once by its key.
   */
  async pollOnce(): Promise<number> {
    const saved = await this.repository.auditCursor(STATE);
    let after = saved;
    let total = 0;
    try {
      for (;;) {
        const data = await this.client.request<{ paymentEventsAfter: PaymentEvent[] }>('payments', EVENTS_AFTER, { after, first: this.batch });
        this.paymentsDown = false;
        const events = data.paymentEventsAfter;
        await this.repository.appendAudits(
          events.map((event) => ({
            key: `payment-event:${event.cursor}`,
            kind: 'PAYMENT_STATUS_CHANGED',
            data: { cursor: event.cursor, paymentId: event.payment.id, status: event.status, previousStatus: event.previousStatus, occurredAt: event.occurredAt },
          })),
        );
        if (events.length > 0) after = events[events.length - 1].cursor;
        total += events.length;
        if (events.length < this.batch || this.stopped) return total;
      }
    } finally {
      if (after !== null && after !== saved) await this.repository.saveAuditCursor(STATE, after);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
