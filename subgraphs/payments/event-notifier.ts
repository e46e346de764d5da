import { EventEmitter } from 'node:events';

/**
 * Wakes subscribers when a payment event has been appended to the log. A notification only
 * says "there is something after sequence N"; subscribers always read the durable log, so a
 * lost or duplicated notification costs a read, never an event. The in-process implementation
 * serves one process; a Redis or NATS implementation fans out across instances behind the
 * same interface.
 */
export interface PaymentEventNotice {
  sequence: number;
  paymentId: string;
}

export interface PaymentEventNotifier {
  publish(notice: PaymentEventNotice): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: (notice: PaymentEventNotice) => void): () => void;
  close(): Promise<void>;
}

export class InProcessEventNotifier implements PaymentEventNotifier {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  publish(notice: PaymentEventNotice): void {
    this.emitter.emit('event', notice);
  }
  subscribe(listener: (notice: PaymentEventNotice) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}
