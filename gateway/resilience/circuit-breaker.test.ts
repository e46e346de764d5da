import { CircuitBreaker } from './circuit-breaker';

function breaker() {
  let time = 0;
  const b = new CircuitBreaker({ failureThreshold: 3, openMs: 1000, now: () => time });
  return { b, advance: (ms: number) => (time += ms) };
}

test('opens after the threshold of consecutive failures and fails fast while open', () => {
  const { b, advance } = breaker();
  b.onFailure();
  b.onFailure();
  expect(b.state).toBe('closed');
  expect(b.tryAcquire()).toBe(true);
  b.onFailure();
  expect(b.state).toBe('open');
  expect(b.tryAcquire()).toBe(false);
  advance(999);
  expect(b.tryAcquire()).toBe(false);
});

test('a success in between resets the count', () => {
  const { b } = breaker();
  b.onFailure();
  b.onFailure();
  b.onSuccess();
  b.onFailure();
  b.onFailure();
  expect(b.state).toBe('closed');
});

test('after the open window one probe goes through; its success closes the circuit', () => {
  const { b, advance } = breaker();
  for (let i = 0; i < 3; i++) b.onFailure();
  advance(1000);
  expect(b.tryAcquire()).toBe(true);
  expect(b.state).toBe('half-open');
  expect(b.tryAcquire()).toBe(false); // only one probe at a time
  b.onSuccess();
  expect(b.state).toBe('closed');
  expect(b.tryAcquire()).toBe(true);
});

test('a failed probe re-opens the circuit for another window', () => {
  const { b, advance } = breaker();
  for (let i = 0; i < 3; i++) b.onFailure();
  advance(1000);
  expect(b.tryAcquire()).toBe(true);
  b.onFailure();
  expect(b.state).toBe('open');
  expect(b.tryAcquire()).toBe(false);
  advance(1000);
  expect(b.tryAcquire()).toBe(true);
});

test('a probe that does not report within a window lets one more probe through, no more', () => {
  const { b, advance } = breaker();
  for (let i = 0; i < 3; i++) b.onFailure();
  advance(1000);
  expect(b.tryAcquire()).toBe(true); // a slow probe, still out
  advance(999);
  expect(b.tryAcquire()).toBe(false);
  advance(1);
  expect(b.tryAcquire()).toBe(true); // the second probe
  expect(b.tryAcquire()).toBe(false);
  b.onSuccess();
  expect(b.state).toBe('closed');
});
