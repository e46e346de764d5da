/**
 * Where risk alerts go once stored. The subscription resolver only needs `subscribe`; the
 * assessment only `publish`. The in-process bus serves one process; a cross-process bus
 * (Redis, NATS) implements the same two methods and is passed to `createRiskSubgraph`.
 */
export interface RiskAlertRecord {
  id: string;
  paymentId: string;
  customerId: string;
  level: string;
  score: number;
  reasons: string[];
  raisedAt: Date;
}

export interface AlertBus {
  publish(alert: RiskAlertRecord): Promise<void>;
  /** An async iterator of alerts published after the call; `return()` unsubscribes. */
  subscribe(): AsyncIterableIterator<RiskAlertRecord>;
  close?(): Promise<void>;
}

/** Fan-out to every live subscriber of this process, each with its own unbounded queue. */
export class InProcessAlertBus implements AlertBus {
  private readonly subscribers = new Set<(alert: RiskAlertRecord) => void>();

  async publish(alert: RiskAlertRecord): Promise<void> {
    for (const deliver of this.subscribers) deliver(alert);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  subscribe(): AsyncIterableIterator<RiskAlertRecord> {
    const queue: RiskAlertRecord[] = [];
    const waiting: ((result: IteratorResult<RiskAlertRecord>) => void)[] = [];
    let done = false;
    const deliver = (alert: RiskAlertRecord) => {
      const next = waiting.shift();
      if (next) next({ value: alert, done: false });
      else queue.push(alert);
    };
    this.subscribers.add(deliver);
    const finish = async (): Promise<IteratorResult<RiskAlertRecord>> => {
      done = true;
      this.subscribers.delete(deliver);
      for (const next of waiting.splice(0)) next({ value: undefined, done: true });
      queue.length = 0;
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<RiskAlertRecord> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: finish,
      throw: async (error?: unknown) => {
        await finish();
        throw error;
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

/** Maps each value of an async iterator, passing `return` through so unsubscribing still works. */
export function mapAsyncIterator<T, U>(source: AsyncIterableIterator<T>, map: (value: T) => U): AsyncIterableIterator<U> {
  const iterator: AsyncIterableIterator<U> = {
    next: async () => {
      const result = await source.next();
      return result.done ? { value: undefined, done: true } : { value: map(result.value), done: false };
    },
    return: async () => {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
