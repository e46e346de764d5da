import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACTED_PATHS } from './logger';

test('names, emails, account numbers and authorization headers never reach a log line', () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  const log = pino({ redact: { paths: REDACTED_PATHS, censor: '[masked]' } }, sink);
  log.info({ customer: { name: 'Alice Moreau', email: 'alice@example.com', country: 'FR' } }, 'customer created');
  log.info({ input: { beneficiary: { name: 'Bob', accountNumber: 'DE89370400440532013000' } } }, 'payment');
  log.info({ req: { headers: { authorization: 'Bearer secret-token' } } }, 'request');
  const output = lines.join('');
  for (const secret of ['Alice Moreau', 'alice@example.com', 'DE89370400440532013000', 'Bob', 'secret-token']) expect(output).not.toContain(secret);
  expect(output).toContain('"country":"FR"');
  expect(output.match(/\[masked\]/g)?.length).toBe(5);
});
