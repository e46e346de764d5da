import type { Request, Response } from 'express';
import type { CommandStartedEvent, CommandSucceededEvent, CommandFailedEvent, MongoClient } from 'mongodb';
import { Counter, Histogram, register } from 'prom-client';

/** Database commands by database and command name: the N+1 proof and benchmark read this. */
export const dbCommands = new Counter({
  name: 'paygraph_db_commands_total',
  help: 'MongoDB commands sent, by database and command',
  labelNames: ['database', 'command'],
});

export const dbCommandSeconds = new Histogram({
  name: 'paygraph_db_command_duration_seconds',
  help: 'MongoDB command latency',
  labelNames: ['command'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
});

const IGNORED = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'endSessions']);

export function registerDbMetrics(client: MongoClient, _service: string): void {
  client.on('commandStarted', (event: CommandStartedEvent) => {
    if (!IGNORED.has(event.commandName)) dbCommands.inc({ database: event.databaseName, command: event.commandName });
  });
  const observe = (event: CommandSucceededEvent | CommandFailedEvent) => {
    if (!IGNORED.has(event.commandName)) dbCommandSeconds.observe({ command: event.commandName }, event.duration / 1000);
  };
  client.on('commandSucceeded', observe);
  client.on('commandFailed', observe);
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
