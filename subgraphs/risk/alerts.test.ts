import { InProcessAlertBus, mapAsyncIterator, type RiskAlertRecord } from './alerts';

const alert = (id: string): RiskAlertRecord => ({ id, paymentId: `pay_${id}`, customerId: 'cus_1', level: 'HIGH', score: 70, reasons: [], raisedAt: new Date(0) });

describe('InProcessAlertBus', () => {
  it('delivers each alert to every subscriber, in order, queued or awaited', async () => {
    const bus = new InProcessAlertBus();
    const a = bus.subscribe();
    const b = mapAsyncIterator(bus.subscribe(), (x) => x.id);
    const pending = a.next();
    await bus.publish(alert('1'));
    await bus.publish(alert('2'));
    expect((await pending).value?.id).toBe('1');
    expect((await a.next()).value?.id).toBe('2');
    expect((await b.next()).value).toBe('1');
    expect((await b.next()).value).toBe('2');
  });

  it('return() unsubscribes and ends a waiting next()', async () => {
    const bus = new InProcessAlertBus();
    const a = bus.subscribe();
    const waiting = a.next();
    expect(bus.subscriberCount).toBe(1);
    await a.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect(bus.subscriberCount).toBe(0);
  });
});
