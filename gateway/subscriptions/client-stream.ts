import type { ExecutionResult, GraphQLError } from 'graphql';

/**
 * The events waiting for one client subscription: an async iterator that graphql-ws drains
 * as fast as that client's socket takes them. It is bounded: when more than `bound` events
 * wait (the client reads too slowly), `onOverflow` fires once and nothing more is queued,
 * so one slow client costs a bounded amount of memory and never holds back the others.
 */
export class ClientStream implements AsyncGenerator<ExecutionResult, void, unknown> {
  private readonly queue: ExecutionResult[] = [];
  private waiting: ((step: IteratorResult<ExecutionResult, void>) => void) | undefined;
  private waitingFail: ((error: unknown) => void) | undefined;
  private ending: { error?: GraphQLError } | undefined;
  private done = false;
  private overflowed = false;
  private readonly finishedPromise: Promise<void>;
  private markFinished!: () => void;

  constructor(
    private readonly bound: number,
    private readonly onOverflow: () => void,
    /** Called once when the stream stops for any reason (client completed, closed, ended). */
    private readonly onStop: () => void,
  ) {
    this.finishedPromise = new Promise((resolve) => (this.markFinished = resolve));
  }

  /** Events queued and not yet taken by the socket. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when the last queued event was taken and the stream is over. */
  get finished(): Promise<void> {
    return this.finishedPromise;
  }

  push(result: ExecutionResult): void {
    if (this.done || this.ending || this.overflowed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.waitingFail = undefined;
      resolve({ value: result, done: false });
      return;
    }
    this.queue.push(result);
    if (this.queue.length > this.bound) {
      this.overflowed = true;
      this.onOverflow();
    }
  }

  /** Ends after the queued events: with a last event (e.g. the reason), or with an error message. */
  end(last?: ExecutionResult, error?: GraphQLError): void {
    if (this.done || this.ending) return;
    this.ending = { error };
    if (last && this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.waitingFail = undefined;
      resolve({ value: last, done: false });
      return;
    }
    if (last) this.queue.push(last);
    if (this.waiting && this.queue.length === 0) this.settleWaiting();
  }

  private settleWaiting(): void {
    const resolve = this.waiting;
    const fail = this.waitingFail;
    this.waiting = this.waitingFail = undefined;
    const error = this.ending?.error;
    this.stop();
    if (error) fail?.(error);
    else resolve?.({ value: undefined, done: true });
  }

  private stop(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.markFinished();
    this.onStop();
  }

  next(): Promise<IteratorResult<ExecutionResult, void>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.ending) {
      const error = this.ending.error;
      this.stop();
      return error ? Promise.reject(error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.waitingFail = reject;
    });
  }

  return(): Promise<IteratorResult<ExecutionResult, void>> {
    const resolve = this.waiting;
    this.waiting = this.waitingFail = undefined;
    this.stop();
    resolve?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult, void>> {
    this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}
