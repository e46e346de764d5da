import { MongoClient, type Collection, type Db, type Document, type Filter, type FindOptions, type OptionalUnlessRequiredId, type WithId } from 'mongodb';
import { envString } from './config';

/**
 * One MongoClient per process. `useBigInt64` makes int64 values round-trip as BigInt, so
 * minor units never pass through a JavaScript number.
 */
export interface MongoHandle {
  readonly client: MongoClient;
  /** The database owned by one subgraph, e.g. `paygraph_accounts`. */
  database(name: string): Db;
  close(): Promise<void>;
}

export function databaseName(subgraph: string): string {
  return `${envString('MONGODB_DB_PREFIX', 'paygraph_')}${subgraph}`;
}

export async function connectMongo(uri = envString('MONGODB_URI'), options: { monitorCommands?: boolean } = {}): Promise<MongoHandle> {
  const client = new MongoClient(uri, {
    useBigInt64: true,
    monitorCommands: options.monitorCommands ?? true,
    maxPoolSize: 20,
    serverSelectionTimeoutMS: 10_000,
  });
  await client.connect();
  return {
    client,
    database: (name) => client.db(databaseName(name)),
    close: () => client.close(),
  };
}

/** True when `error` is a duplicate-key error from a unique index (code 11000). */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Inserts `doc` unless a unique index already holds its key: true when this call inserted it.
 * The insert against a unique index is the one atomic decision every store offers.
 */
export async function insertIfAbsent<T extends Document>(collection: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  try {
    await collection.insertOne(doc);
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

/**
 * Documents by `_id`, one point read each, run together (duplicates read once). FerretDB's
 * SQLite backend pushes down only `{_id: value}`: an `$in` over ids scans the collection,
 * which takes seconds at 50,000 documents, while a point read takes a few milliseconds.
 */
export async function findByIds<T extends Document & { _id: string }>(collection: Collection<T>, ids: readonly string[], options: FindOptions = {}): Promise<WithId<T>[]> {
  const docs: (WithId<T> | null)[] = await Promise.all([...new Set(ids)].map((_id) => collection.findOne({ _id } as Filter<T>, options)));
  return docs.filter((doc): doc is WithId<T> => doc !== null);
}
