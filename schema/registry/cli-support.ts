import { envOptional } from '../../runtime/config';
import { connectMongo, readMongoConfig, type MongoHandle } from '../../runtime/mongo';
import { RegistryStore } from './store';

export interface CliRegistry {
  store: RegistryStore;
  /** Where it is, for the report: `<uri host> / <database>`. */
  where: string;
  close(): Promise<void>;
}

/**
 * The registry for a command-line tool: MONGODB_URI (and MONGODB_DB_PREFIX) as the gateway
 * uses them. Undefined, with the reason, when it is not configured or not reachable.
 */
export async function openRegistryForCli(): Promise<CliRegistry | { unavailable: string }> {
  const uri = envOptional('MONGODB_URI');
  if (!uri) {
    return { unavailable: 'MONGODB_URI is not set, so there is no registry to read (set it to the database the gateway uses; `npm start` prints it)' };
  }
  const config = readMongoConfig();
  let mongo: MongoHandle;
  try {
    mongo = await connectMongo(config, { monitorCommands: false });
  } catch (error) {
    return { unavailable: `the registry database at MONGODB_URI is unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
  return {
    store: new RegistryStore(mongo.database('gateway')),
    where: `${uri.replace(/\/\/[^@/]*@/, '//')} database ${mongo.database('gateway').databaseName}`,
    close: () => mongo.close(),
  };
}

/** Exit code 2: the command was misused (bad arguments, no registry); the message says how. */
export function misuse(message: string): number {
  console.error(message);
  return 2;
}

/** Runs a schema command: its result is the exit code, and a crash is exit code 2. */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    },
  );
}
