import { Writable } from 'node:stream';
import { logDestination } from './log-destination';
import { createLogger } from './logger';
import { runInRequest } from './request-context';

test('pretty on a terminal, JSON otherwise, unless LOG_FORMAT says', () => {
  expect(logDestination(undefined, false)).toBeUndefined();
  expect(logDestination('json', true)).toBeUndefined();
  expect(logDestination(undefined, true)).toBeInstanceOf(Writable);
  expect(logDestination('pretty', false)).toBeInstanceOf(Writable);
});

test('lines logged inside a request carry its request and trace ids, still masked', () => {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  try {
    process.env.LOG_FORMAT = 'json';
    const log = createLogger('payments');
    runInRequest({ requestId: 'req-7', traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), sampled: true }, () => {
      log.warn({ customer: { name: 'Alice Moreau', email: 'alice@example.com' } }, 'inside');
    });
    log.warn('outside');
  } finally {
    write.mockRestore();
    delete process.env.LOG_FORMAT;
  }
  const [inside, outside] = lines.map((line) => JSON.parse(line));
  expect(inside).toMatchObject({ requestId: 'req-7', traceId: 'a'.repeat(32), msg: 'inside', customer: { name: '[masked]', email: '[masked]' } });
  expect(outside.requestId).toBeUndefined();
});
