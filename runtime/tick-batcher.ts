/**
 * Group commit for one kind of database command: what callers submit while a batch is being
 * written waits, and goes in the next batch, as one command. With nothing in flight a
 * submission leaves on the next turn of the event loop (so callers of the same turn share it):
 * one caller waits for nothing, many share the cost of one round trip. A caller is answered
 * when the batch holding its item is acknowledged; a failed batch fails each of its callers.
 */
export interface TickBatcherOptions {
  /** Most items in one batch; more wait for the next. Default 256. */
  maxBatch?: number;
  /** Called with the size of each batch sent (metrics). */
  onBatch?: (items: number) => void;
}

interface Pending<I, O> {
  item: I;
  resolve(result: O): void;
  reject(error: unknown): void;
}

export class TickBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private writing = false;
  private readonly maxBatch: number;

  /** `flush` writes the items as one command and answers each, in order. */
  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly options: TickBatcherOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
  }

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        this.options.onBatch?.(batch.length);
        const results = await this.flush(batch.map((pending) => pending.item));
        batch.forEach((pending, i) => pending.resolve(results[i]));
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.writing = false;
  }
}
