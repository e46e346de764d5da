import type { Request, Response } from 'express';
import type { CommandStartedEvent, CommandSucceededEvent, CommandFailedEvent, MongoClient } from 'mongodb';
import { Counter, Histogram, register } from 'prom-client';

/**
 * Marks a command sent to compute a metric at scrape time (pass as the command's `comment`).
 * Such commands are not counted: a scrape must not change the counts it reports, or the N+1
 * proof and the benchmark, which read the counters around requests, would count themselves.
 */
export const SCRAPE_COMMENT = 'paygraph:metrics-scrape';

/** Database commands by database and command name: the N+1 proof and benchmark read this. */
export const dbCommands = new Counter({
  name: 'paygraph_db_commands_total',
  help: 'MongoDB commands sent, by database and command (the metrics scrape\'s own reads excluded)',
  labelNames: ['database', 'command'],
});

export const dbCommandSeconds = new Histogram({
  name: 'paygraph_db_command_duration_seconds',
  help: 'MongoDB command latency',
  labelNames: ['command'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
});

const IGNORED = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions']);

/**
 * Counts and times every database command. With `slowMs` above 0 (MongoConfig.slowCommandMs,
 * env SLOW_COMMAND_MS), commands slower than that are logged with their collection and the
 * shape of their filter (keys only, no values).
 */
export function registerDbMetrics(client: MongoClient, _service: string, log?: { warn(obj: object, msg: string): void }, slowMs = 0): void {
  const started = new Map<number, string>();
  client.on('commandStarted', (event: CommandStartedEvent) => {
    if (IGNORED.has(event.commandName)) return;
    if ((event.command as { comment?: unknown }).comment === SCRAPE_COMMENT) return;
    dbCommands.inc({ database: event.databaseName, command: event.commandName });
    if (slowMs > 0) started.set(event.requestId, describeCommand(event));
  });
  const observe = (event: CommandSucceededEvent | CommandFailedEvent) => {
    if (IGNORED.has(event.commandName)) return;
    dbCommandSeconds.observe({ command: event.commandName }, event.duration / 1000);
    if (slowMs > 0) {
      const description = started.get(event.requestId);
      started.delete(event.requestId);
      if (event.duration >= slowMs) log?.warn({ command: description, ms: Math.round(event.duration) }, 'slow database command');
    }
  };
  client.on('commandSucceeded', observe);
  client.on('commandFailed', observe);
}

function describeCommand(event: CommandStartedEvent): string {
  const command = event.command as Record<string, unknown>;
  const collection = String(command[event.commandName] ?? '');
  const filter = (command.filter ?? command.q ?? (Array.isArray(command.updates) ? (command.updates[0] as { q?: unknown })?.q : undefined)) as Record<string, unknown> | undefined;
  const shape = filter && typeof filter === 'object' ? Object.keys(filter).join(',') : '';
  return `${event.commandName} ${event.databaseName}.${collection} {${shape}}${command.sort ? ` sort ${JSON.stringify(command.sort)}` : ''}`;
}

export async function metricsHandler(_req: Request, res: Response): Promise<void> {
  res.setHeader('content-type', register.contentType);
  res.end(await register.metrics());
}

/** Reads `paygraph_db_commands_total` for one database from a Prometheus text page. */
export function sumDbCommands(metricsText: string, database: string): number {
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (line.startsWith('paygraph_db_commands_total{') && line.includes(`database="${database}"`)) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}
