import { randomBytes } from 'node:crypto';
import { createEventBus, type EventBus } from './index';

/** Each bus against its real server (Redis 127.0.0.1:6379, NATS 127.0.0.1:4222): two instances, one topic. */
const KINDS: [string, string | undefined][] = [
  ['in-process', undefined],
  ['redis', process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'],
  ['nats', process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222'],
];

function nextMessage(bus: EventBus, topic: string, count: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const got: unknown[] = [];
    const unsubscribe = bus.subscribe(topic, (message) => {
      got.push(message);
      if (got.length === count) {
        unsubscribe();
        resolve(got);
      }
    });
  });
}

describe.each(KINDS)('%s event bus', (kind, url) => {
  const prefix = `t${randomBytes(4).toString('hex')}`;
  let a: EventBus;
  let b: EventBus;
  beforeAll(() => {
    a = createEventBus({ url, prefix });
    b = kind === 'in-process' ? a : createEventBus({ url, prefix });
  });
  afterAll(async () => {
    await a.close();
    if (b !== a) await b.close();
  });

  test('a message published on one instance reaches subscribers of another, in order', async () => {
    const received = nextMessage(b, 'payment-events', 3);
    const second = nextMessage(b, 'payment-events', 3);
    await b.ready();
    for (const sequence of [1, 2, 3]) a.publish('payment-events', { sequence, paymentId: 'pay_1' });
    expect(await received).toEqual([1, 2, 3].map((sequence) => ({ sequence, paymentId: 'pay_1' })));
    expect(await second).toHaveLength(3);
  });

  test('reports itself connected once it carries messages, and not after close (readiness)', async () => {
    const probe = createEventBus({ url, prefix });
    const heard = nextMessage(probe, 'probe', 1);
    await probe.ready();
    probe.publish('probe', 'ping');
    await heard;
    expect(probe.connected()).toBe(true);
    await probe.close();
    if (kind !== 'in-process') expect(probe.connected()).toBe(false);
  });

  test('topics are separate and unsubscribe stops delivery', async () => {
    const seen: unknown[] = [];
    const stop = b.subscribe('other', (m) => seen.push(m));
    const main = nextMessage(b, 'main', 1);
    await b.ready();
    a.publish('main', 'x');
    expect(await main).toEqual(['x']);
    stop();
    const after = nextMessage(b, 'main', 1);
    await b.ready();
    a.publish('other', 'ignored');
    a.publish('main', 'y');
    expect(await after).toEqual(['y']);
    expect(seen).toEqual([]);
  });
});

test('an unknown scheme is a configuration error', () => {
  expect(() => createEventBus({ url: 'kafka://localhost:9092', prefix: 'p' })).toThrow(/EVENT_BUS_URL/);
});
