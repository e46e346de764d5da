import { AdmissionQueue } from './admission-queue';
import { ErrorCode } from './errors';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

test('runs up to maxActive at once, queues up to maxQueued in order, refuses the next with LIMIT_EXCEEDED', async () => {
  let refused = 0;
  const queue = new AdmissionQueue({ maxActive: 2, maxQueued: 2, retryAfterMs: 250 }, 'payments', () => refused++);
  const started: number[] = [];
  const gates = Array.from({ length: 4 }, gate);
  const runs = gates.map((g, i) => queue.run(async () => {
    started.push(i);
    await g.opened;
    return i;
  }));
  await new Promise((resolve) => setImmediate(resolve));
  expect(started).toEqual([0, 1]);
  expect(queue.queuedCount).toBe(2);
  await expect(queue.run(async () => 'too many')).rejects.toMatchObject({ code: ErrorCode.LIMIT_EXCEEDED, extensions: { code: 'LIMIT_EXCEEDED', retryAfterMs: 250 } });
  expect(refused).toBe(1);
  gates[1].open();
  await runs[1];
  await new Promise((resolve) => setImmediate(resolve));
  expect(started).toEqual([0, 1, 2]);
  for (const g of gates) g.open();
  expect(await Promise.all(runs)).toEqual([0, 1, 2, 3]);
  expect(started).toEqual([0, 1, 2, 3]);
  expect(queue.activeCount).toBe(0);
});

test('a task that throws frees its slot', async () => {
  const queue = new AdmissionQueue({ maxActive: 1, maxQueued: 0, retryAfterMs: 100 }, 'payments');
  await expect(queue.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
  await expect(queue.run(async () => 'next')).resolves.toBe('next');
});
