import type { ServerResponse } from 'node:http';
import { GraphQLError, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { ClientStream } from '../client-stream';
import { SubscriptionCloseCode, SubscriptionEndCode } from '../codes';
import type { ClientSocket } from '../protocol';
import { completeMessage, KEEP_ALIVE_COMMENT, nextMessage, resultCursor } from './messages';

/** How long a stream ended for a slow client may take to flush before its socket is destroyed (as ws's close timeout). */
const CLOSE_TIMEOUT_MS = 30_000;

export interface EventStreamOptions {
  /** Interval of keep-alive comments; 0 sends none. */
  keepAliveMs: number;
  /** Each `next` of a result with a cursor carries it as its SSE `id:` (distinct connections only). */
  eventIds: boolean;
  /** How errors leave the gateway (the protocol's formatter). */
  formatError(error: GraphQLError): GraphQLFormattedError;
}

/**
 * One open `text/event-stream` response, carrying the results of one operation (distinct
 * connections) or of many (single connection: each message names its operation). It is the
 * protocol's ClientSocket: its buffer is the response's, and `close` ends it with a reason,
 * since SSE has no close codes. Each operation's results are written one at a time, the next
 * taken only once the response has room, so a client that stops reading makes its
 * ClientStream fill up and trip the slow-consumer bound, as on graphql-ws.
 */
export class EventStream implements ClientSocket {
  private response: ServerResponse | undefined;
  private readonly operations = new Set<string | undefined>();
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly endedCallbacks: (() => void)[] = [];
  private markOpened!: () => void;
  /** Resolves when the response opens, or the stream ends before it did. */
  private readonly opened = new Promise<void>((resolve) => (this.markOpened = resolve));
  private isEnded = false;

  constructor(private readonly options: EventStreamOptions) {}

  get bufferedAmount(): number {
    return this.response?.writableLength ?? 0;
  }

  get ended(): boolean {
    return this.isEnded;
  }

  get isOpen(): boolean {
    return this.response !== undefined;
  }

  /** Operations whose results are being written. */
  get operationCount(): number {
    return this.operations.size;
  }

  /** Calls `callback` once the stream has ended, for whatever reason. */
  whenEnded(callback: () => void): void {
    if (this.isEnded) callback();
    else this.endedCallbacks.push(callback);
  }

  /** Answers `res` with the stream: 200, the event-stream headers, a first comment, then keep-alives. */
  open(res: ServerResponse): void {
    if (this.isEnded || this.response) return;
    this.response = res;
    res.once('close', () => this.end());
    if (res.destroyed) return this.end();
    res.socket?.setNoDelay(true);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // nginx buffers responses unless told not to.
      'x-accel-buffering': 'no',
    });
    // Some browsers dispatch `open` only once a first chunk arrives.
    res.write(KEEP_ALIVE_COMMENT);
    if (this.options.keepAliveMs > 0) this.keepAlive = setInterval(() => res.write(KEEP_ALIVE_COMMENT), this.options.keepAliveMs);
    this.markOpened();
  }

  /**
   * Writes `stream`'s results as `next` messages once the response is open, then `complete`;
   * calls `onDone` after. An error ending the stream (the subgraph refused, went away) is sent
   * as a last `next` with that error, where graphql-ws sends an `error` message.
   */
  deliver(operationId: string | undefined, stream: ClientStream, onDone?: () => void): void {
    this.operations.add(operationId);
    void (async () => {
      await this.opened;
      try {
        for await (const result of stream) {
          const formatted = this.formatResult(result);
          await this.write(nextMessage(formatted, operationId, this.options.eventIds ? resultCursor(formatted) : undefined));
        }
      } catch (error) {
        const reason = error instanceof GraphQLError ? error : new GraphQLError('the subscription failed');
        await this.write(nextMessage({ errors: [this.options.formatError(reason)] }, operationId));
      }
      await this.write(completeMessage(operationId));
      this.operations.delete(operationId);
      onDone?.();
    })();
  }

  /** Refuses one operation on the stream: a `next` with the errors, then `complete`. */
  refuse(operationId: string | undefined, errors: readonly GraphQLError[]): Promise<void> {
    return this.opened.then(async () => {
      await this.write(nextMessage({ errors: errors.map((e) => this.options.formatError(e)) }, operationId));
      await this.write(completeMessage(operationId));
    });
  }

  /**
   * The protocol closes a client (SlowConsumer): each operation gets a last `next` saying why
   * and `complete`, queued behind what the client has not read yet, and the response ends.
   */
  close(code: number, reason: string): void {
    if (this.isEnded) return;
    const endCode = code === SubscriptionCloseCode.SlowConsumer ? SubscriptionEndCode.SLOW_CONSUMER : SubscriptionEndCode.SHUTTING_DOWN;
    const res = this.response;
    if (res?.writable) {
      for (const operationId of this.operations) {
        res.write(nextMessage({ errors: [{ message: reason, extensions: { code: endCode } }] }, operationId));
        res.write(completeMessage(operationId));
      }
      setTimeout(() => res.destroy(), CLOSE_TIMEOUT_MS).unref();
    }
    this.end();
  }

  /** Ends the response (after what it holds is flushed) and stops every operation on it. */
  end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    clearInterval(this.keepAlive);
    this.markOpened();
    if (this.response && !this.response.writableEnded) this.response.end();
    for (const callback of this.endedCallbacks.splice(0)) callback();
  }

  private formatResult(result: ExecutionResult): FormattedExecutionResult {
    if (!result.errors) return result as FormattedExecutionResult;
    return { ...result, errors: result.errors.map((e) => (e instanceof GraphQLError ? this.options.formatError(e) : e)) } as FormattedExecutionResult;
  }

  /** Writes one message; resolves once the response can take more (or is gone). */
  private write(message: string): Promise<void> {
    const res = this.response;
    if (this.isEnded || !res?.writable) return Promise.resolve();
    if (res.write(message)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  }
}
