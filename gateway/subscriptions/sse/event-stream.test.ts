import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientStream } from '../client-stream';
import { SubscriptionCloseCode, SubscriptionCloseReason } from '../codes';
import { EventStream } from './event-stream';

/**
 * An EventStream over a real HTTP server and client on loopback: a client that stops reading
 * fills the response, the results back up in the bounded ClientStream, and the protocol's
 * slow-consumer close ends the stream with a last SLOW_CONSUMER result, as on graphql-ws.
 */
let server: Server;
let served: { stream: EventStream; results: ClientStream; overflowed: boolean };

beforeAll(async () => {
  server = createServer((_req, res) => {
    const stream = new EventStream({ keepAliveMs: 0, eventIds: true, formatError: (e) => e.toJSON() });
    const results: ClientStream = new ClientStream(3, () => {
      served.overflowed = true;
      stream.close(SubscriptionCloseCode.SlowConsumer, SubscriptionCloseReason.SlowConsumer);
    }, () => {});
    served = { stream, results, overflowed: false };
    stream.whenEnded(() => void results.return());
    stream.open(res);
    stream.deliver(undefined, results, () => stream.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function connect(): Promise<IncomingMessage> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => get({ port, host: '127.0.0.1', headers: { accept: 'text/event-stream' } }, resolve).once('error', reject));
}

function readAll(response: IncomingMessage): Promise<string> {
  let text = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => (text += chunk));
  return new Promise((resolve) => response.once('end', () => resolve(text)));
}

test('results reach a reading client as next events with their cursor as id, then complete', async () => {
  const response = await connect();
  const text = readAll(response);
  served.results.push({ data: { paymentStatusChanged: { cursor: 'c1', status: 'PENDING' } } });
  served.results.push({ data: { paymentStatusChanged: { cursor: 'c2', status: 'SETTLED' } } });
  served.results.end();
  expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(await text).toBe(
    ':\n\n' +
      'id: c1\nevent: next\ndata: {"data":{"paymentStatusChanged":{"cursor":"c1","status":"PENDING"}}}\n\n' +
      'id: c2\nevent: next\ndata: {"data":{"paymentStatusChanged":{"cursor":"c2","status":"SETTLED"}}}\n\n' +
      'event: complete\ndata:\n\n',
  );
});

test('a client that stops reading is ended with SLOW_CONSUMER once more results wait than the bound', async () => {
  const response = await connect();
  response.pause();
  const big = 'x'.repeat(1024 * 1024);
  let pushed = 0;
  // How much loopback buffers absorb depends on the machine: push until the bound trips, far past any buffer.
  while (!served.overflowed && pushed < 200) {
    served.results.push({ data: { paymentStatusChanged: { cursor: `c${pushed}`, reference: big } } });
    pushed += 1;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(served.overflowed).toBe(true);
  expect(served.stream.ended).toBe(true);
  const text = readAll(response);
  response.resume();
  const events = (await text).split('\n\n').filter(Boolean);
  const delivered = events.filter((e) => e.includes('event: next') && e.includes('"cursor"'));
  expect(delivered.length).toBeLessThan(pushed);
  expect(delivered.map((e) => /^id: (\S+)/.exec(e)?.[1])).toEqual(delivered.map((_e, i) => `c${i}`));
  expect(events.slice(-2)).toEqual([`event: next\ndata: {"errors":[{"message":"${SubscriptionCloseReason.SlowConsumer}","extensions":{"code":"SLOW_CONSUMER"}}]}`, 'event: complete\ndata:']);
}, 60_000);
