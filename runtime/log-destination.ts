import type { DestinationStream } from 'pino';
import PinoPretty from 'pino-pretty';

/**
 * JSON lines on stdout for machines; readable coloured lines when a person watches a
 * terminal. Env LOG_FORMAT=json|pretty overrides the guess (default: pretty on a TTY).
 */
export function logDestination(format = process.env.LOG_FORMAT, tty = Boolean(process.stdout.isTTY)): DestinationStream | undefined {
  const pretty = format === 'pretty' || (format !== 'json' && tty);
  if (!pretty) return undefined;
  return PinoPretty({ colorize: tty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
}
