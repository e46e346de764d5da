import type { CommandStartedEvent, MongoClient } from 'mongodb';

/** A database whose commands a test counts, and the client that sends them. */
export interface WatchedDatabase {
  client: MongoClient;
  database: string;
}

/**
 * The commands `work` sends to each watched database, in order, as `<command> <collection>`
 * (e.g. `insert payments`): what a call costs the store, counted from the driver's own events.
 */
export async function commandsBy<K extends string>(watched: Record<K, WatchedDatabase>, work: () => Promise<unknown>): Promise<Record<K, string[]>> {
  const seen = {} as Record<K, string[]>;
  const stops = (Object.entries(watched) as [K, WatchedDatabase][]).map(([name, { client, database }]) => {
    seen[name] = [];
    const listener = (event: CommandStartedEvent) => {
      if (event.databaseName === database) seen[name].push(`${event.commandName} ${String(event.command[event.commandName])}`);
    };
    client.on('commandStarted', listener);
    return () => client.off('commandStarted', listener);
  });
  try {
    await work();
  } finally {
    for (const stop of stops) stop();
  }
  return seen;
}

/** The commands `work` sends to one database, as commandsBy. */
export async function commandsOf(client: MongoClient, database: string, work: () => Promise<unknown>): Promise<string[]> {
  return (await commandsBy({ only: { client, database } }, work)).only;
}

/** Just the command names: `insert payments` → `insert`. */
export function commandNames(commands: string[]): string[] {
  return commands.map((command) => command.split(' ')[0]);
}
