import { backoffDelay, SubgraphGuard } from './subgraph-guard';
import { SubgraphUnavailableError } from './unavailable';

const config = { retries: 2, retryBackoffMs: 10, breakerFailures: 5, breakerOpenMs: 1000 };
const noSleep = async () => {};

function failingCall(outcomes: (Error | string)[]) {
  const calls: number[] = [];
  const call = async () => {
    calls.push(calls.length);
    const next = outcomes.shift() ?? 'ok';
    if (next instanceof Error) throw next;
    return next;
  };
  return { call, calls };
}

test('a read that could not reach the subgraph is retried, and succeeds when the subgraph answers', async () => {
  const guard = new SubgraphGuard(config, () => 0, noSleep);
  const { call, calls } = failingCall([new SubgraphUnavailableError('unreachable'), new SubgraphUnavailableError('overloaded')]);
  await expect(guard.run(true, call)).resolves.toBe('ok');
  expect(calls).toHaveLength(3);
});

test('a mutation is never retried', async () => {
  const guard = new SubgraphGuard(config, () => 0, noSleep);
  const { call, calls } = failingCall([new SubgraphUnavailableError('unreachable')]);
  await expect(guard.run(false, call)).rejects.toMatchObject({ reason: 'unreachable' });
  expect(calls).toHaveLength(1);
});

test('a timed-out read is not retried: its time budget is spent', async () => {
  const guard = new SubgraphGuard(config, () => 0, noSleep);
  const { call, calls } = failingCall([new SubgraphUnavailableError('timeout')]);
  await expect(guard.run(true, call)).rejects.toMatchObject({ reason: 'timeout' });
  expect(calls).toHaveLength(1);
});

test('retries stop after the configured number', async () => {
  const guard = new SubgraphGuard(config, () => 0, noSleep);
  const down = () => new SubgraphUnavailableError('unreachable');
  const { call, calls } = failingCall([down(), down(), down(), down()]);
  await expect(guard.run(true, call)).rejects.toBeInstanceOf(SubgraphUnavailableError);
  expect(calls).toHaveLength(3);
});

test('an answer that is an error (e.g. 401) is not a failure: no retry, circuit stays closed', async () => {
  const guard = new SubgraphGuard({ ...config, breakerFailures: 1 }, () => 0, noSleep);
  const { call, calls } = failingCall([new Error('401 Unauthorized')]);
  await expect(guard.run(true, call)).rejects.toThrow('401');
  expect(calls).toHaveLength(1);
  expect(guard.state).toBe('closed');
});

test('once the circuit is open calls fail fast without reaching the subgraph, and a probe closes it', async () => {
  let time = 0;
  const guard = new SubgraphGuard({ ...config, retries: 0, breakerFailures: 2 }, () => time, noSleep);
  const down = () => new SubgraphUnavailableError('unreachable');
  const { call, calls } = failingCall([down(), down()]);
  await expect(guard.run(true, call)).rejects.toBeInstanceOf(SubgraphUnavailableError);
  await expect(guard.run(true, call)).rejects.toBeInstanceOf(SubgraphUnavailableError);
  expect(guard.state).toBe('open');
  await expect(guard.run(true, call)).rejects.toMatchObject({ reason: 'circuit-open' });
  expect(calls).toHaveLength(2);
  time += 1000;
  await expect(guard.run(true, call)).resolves.toBe('ok');
  expect(guard.state).toBe('closed');
  expect(calls).toHaveLength(3);
});

test('backoff doubles its ceiling each attempt (full jitter)', () => {
  expect(backoffDelay(0, 50, () => 0.999)).toBe(49);
  expect(backoffDelay(1, 50, () => 0.999)).toBe(99);
  expect(backoffDelay(2, 50, () => 0.5)).toBe(100);
  expect(backoffDelay(3, 50, () => 0)).toBe(0);
});

test('failing mutations open only the write circuit: reads still go through', async () => {
  const guard = new SubgraphGuard({ ...config, retries: 0, breakerFailures: 2 }, () => 0, noSleep);
  const slow = () => new SubgraphUnavailableError('timeout');
  const { call: write } = failingCall([slow(), slow()]);
  await expect(guard.run(false, write)).rejects.toBeInstanceOf(SubgraphUnavailableError);
  await expect(guard.run(false, write)).rejects.toBeInstanceOf(SubgraphUnavailableError);
  expect(guard.writeState).toBe('open');
  await expect(guard.run(false, write)).rejects.toMatchObject({ reason: 'circuit-open' });
  expect(guard.state).toBe('closed');
  await expect(guard.run(true, async () => 'read')).resolves.toBe('read');
});
