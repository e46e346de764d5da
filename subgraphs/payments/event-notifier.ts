import { EventEmitter } from 'node:events';
import { createEventBus, readEventBusConfig, type EventBus } from '../../runtime/event-bus';

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
  /** Whether notices reach other processes right now (readiness). */
  connected(): boolean;
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
  connected(): boolean {
    return true;
  }
  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/**
 * Notices over the configured EventBus (runtime/event-bus: Redis or NATS by EVENT_BUS_URL),
 * so an event appended by one payments process wakes subscribers in every other.
 */
export class BusEventNotifier implements PaymentEventNotifier {
  static readonly TOPIC = 'payment-events';
  constructor(private readonly bus: EventBus) {}
  publish(notice: PaymentEventNotice): void {
    this.bus.publish(BusEventNotifier.TOPIC, notice);
  }
  subscribe(listener: (notice: PaymentEventNotice) => void): () => void {
    return this.bus.subscribe(BusEventNotifier.TOPIC, (message) => listener(message as PaymentEventNotice));
  }
  connected(): boolean {
    return this.bus.connected();
  }
  async close(): Promise<void> {
    await this.bus.close();
  }
}

/** In-process unless EVENT_BUS_URL names a Redis or NATS server. */
export function createPaymentEventNotifier(): PaymentEventNotifier {
  const config = readEventBusConfig();
  return config.url ? new BusEventNotifier(createEventBus(config)) : new InProcessEventNotifier();
}
