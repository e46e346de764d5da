import type { ExecutionResult } from 'graphql';
import { GraphQLError } from 'graphql';
import { ClientStream } from './client-stream';

const event = (n: number): ExecutionResult => ({ data: { n } });

describe('ClientStream', () => {
  test('delivers pushed events in order, to a waiting reader and from the queue', async () => {
    const stream = new ClientStream(10, () => {}, () => {});
    const first = stream.next();
    stream.push(event(1));
    stream.push(event(2));
    stream.push(event(3));
    expect(await first).toEqual({ value: event(1), done: false });
    expect(await stream.next()).toEqual({ value: event(2), done: false });
    expect(stream.pending).toBe(1);
    expect(await stream.next()).toEqual({ value: event(3), done: false });
  });

  test('past the bound it reports overflow once and queues nothing more', () => {
    let overflows = 0;
    const stream = new ClientStream(2, () => (overflows += 1), () => {});
    for (let i = 0; i < 10; i++) stream.push(event(i));
    expect(overflows).toBe(1);
    expect(stream.pending).toBe(3);
  });

  test('end delivers the queued events and the last one, then completes; a waiting reader gets the last one', async () => {
    let stops = 0;
    const queued = new ClientStream(10, () => {}, () => (stops += 1));
    queued.push(event(1));
    queued.end(event(99));
    expect(await queued.next()).toEqual({ value: event(1), done: false });
    expect(await queued.next()).toEqual({ value: event(99), done: false });
    expect(await queued.next()).toEqual({ value: undefined, done: true });
    expect(stops).toBe(1);
    await queued.finished;

    const waiting = new ClientStream(10, () => {}, () => {});
    const pending = waiting.next();
    waiting.end(event(7));
    expect(await pending).toEqual({ value: event(7), done: false });
    expect(await waiting.next()).toEqual({ value: undefined, done: true });
  });

  test('end with an error rejects the reader after the queued events (graphql-ws sends it as `error`)', async () => {
    const stream = new ClientStream(10, () => {}, () => {});
    stream.push(event(1));
    const forbidden = new GraphQLError('not your account', { extensions: { code: 'FORBIDDEN' } });
    stream.end(undefined, forbidden);
    expect(await stream.next()).toEqual({ value: event(1), done: false });
    await expect(stream.next()).rejects.toBe(forbidden);

    const waiting = new ClientStream(10, () => {}, () => {});
    const pending = waiting.next();
    waiting.end(undefined, forbidden);
    await expect(pending).rejects.toBe(forbidden);
  });

  test('return stops the stream once, releases a waiting reader and ignores later pushes', async () => {
    let stops = 0;
    const stream = new ClientStream(10, () => {}, () => (stops += 1));
    const pending = stream.next();
    await stream.return();
    await stream.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    stream.push(event(1));
    expect(stream.pending).toBe(0);
    expect(stops).toBe(1);
  });
});
