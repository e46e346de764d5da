import { MongoBulkWriteError, MongoClient, type Collection, type Db, type Document, type Filter, type FindOptions, type OptionalUnlessRequiredId, type WithId } from 'mongodb';
import { ConfigError, envInt, envString } from './config';

/** How a process reaches its database; read from the environment once, at start (readMongoConfig). */
export interface MongoConfig {
  /** The deployment, any MongoDB or FerretDB. Env MONGODB_URI (required). */
  uri: string;
  /** Each owner's database is `<dbPrefix><owner>` (`paygraph_accounts`, …, `paygraph_gateway` for the schema registry). Env MONGODB_DB_PREFIX, default `paygraph_`. */
  dbPrefix: string;
  /** How a batch of documents is read by `_id` (IdReads below): `in`, `point`, or `auto` to ask the server at connect. Env MONGODB_ID_READS, default `auto`. */
  idReads: IdReads | 'auto';
  /** Commands slower than this many ms are logged with their collection and filter shape (metrics.ts); 0 = none. Env SLOW_COMMAND_MS, default 0. */
  slowCommandMs: number;
}

export const DEFAULT_DB_PREFIX = 'paygraph_';

/** The process's database settings; `uri`, when given, instead of MONGODB_URI. */
export function readMongoConfig(uri?: string): MongoConfig {
  const idReads = envString('MONGODB_ID_READS', 'auto');
  if (idReads !== 'auto' && idReads !== 'in' && idReads !== 'point') throw new ConfigError(`MONGODB_ID_READS must be auto, in or point, got ${JSON.stringify(idReads)}`);
  return {
    uri: uri ?? envString('MONGODB_URI'),
    dbPrefix: envString('MONGODB_DB_PREFIX', DEFAULT_DB_PREFIX),
    idReads,
    slowCommandMs: envInt('SLOW_COMMAND_MS', 0),
  };
}

/**
 * One MongoClient per process. `useBigInt64` makes int64 values round-trip as BigInt, so
 * minor units never pass through a JavaScript number.
 */
export interface MongoHandle {
  readonly client: MongoClient;
  /** What it was connected with. */
  readonly config: MongoConfig;
  /** The database owned by one subgraph (or the gateway), e.g. `paygraph_accounts`. */
  database(name: string): Db;
  close(): Promise<void>;
}

/**
 * `<MONGODB_DB_PREFIX><owner>`, for scripts and tests that name a database without a
 * connection; a process names its databases through its MongoHandle (its config's prefix).
 */
export function databaseName(owner: string, prefix = envString('MONGODB_DB_PREFIX', DEFAULT_DB_PREFIX)): string {
  return `${prefix}${owner}`;
}

export async function connectMongo(config: MongoConfig, options: { monitorCommands?: boolean } = {}): Promise<MongoHandle> {
  const client = new MongoClient(config.uri, {
    useBigInt64: true,
    monitorCommands: options.monitorCommands ?? true,
    maxPoolSize: 20,
    serverSelectionTimeoutMS: 10_000,
    // Poll, not stream: with the streaming monitor, a payments process whose webhook poller kept
    // asking through a SIGKILL of the embedded store never saw the server again (every server
    // selection failed with the dead connection's error until it exited); polling recovers.
    serverMonitoringMode: 'poll',
  });
  await client.connect();
  idReads = await chooseIdReads(client, config.idReads);
  return {
    client,
    config,
    database: (name) => client.db(databaseName(name, config.dbPrefix)),
    close: () => client.close(),
  };
}

/** True when `error` is a duplicate-key error from a unique index (code 11000). */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** The failed statements of a bulk write (insertMany, bulkWrite), in statement order; undefined for any other error. */
export function bulkWriteErrors(error: unknown): { index: number; code: unknown }[] | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  const list = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return list
    .filter((writeError) => writeError !== undefined)
    .map((writeError) => ({ index: writeError.index, code: writeError.code }))
    .sort((a, b) => a.index - b.index);
}

/**
 * Inserts `docs` in order as one command and returns how many were written: all of them, or
 * those before the first duplicate key. An ordered insert writes a prefix, on MongoDB and
 * FerretDB alike: the documents before its first failure are durable and none after it is
 * written. Any other failure is thrown, and then nothing is known.
 */
export async function insertInOrder<T extends Document>(collection: Collection<T>, docs: OptionalUnlessRequiredId<T>[]): Promise<number> {
  try {
    await collection.insertMany(docs, { ordered: true });
    return docs.length;
  } catch (error) {
    const first = bulkWriteErrors(error)?.[0];
    if (first?.code === 11000) return first.index;
    throw error;
  }
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
 * How a batch of documents is read by `_id` (MONGODB_ID_READS: `auto`, `in` or `point`).
 * MongoDB answers one `$in` from the _id index, and so does our embedded FerretDB build, which
 * says so in buildInfo (runtime/embedded-db/ferretdb/main.go). A stock FerretDB 1.x pushes down
 * only `{_id: value}`: an `$in` over ids decodes the whole collection (38 s for 20 ids among
 * 50,000 payments), so there a batch is point reads run together. `auto` asks the server once.
 */
export type IdReads = 'in' | 'point';
let idReads: IdReads = 'in';

/** The ferretdbVersion our embedded build reports: it pushes `$in` down. */
const EMBEDDED_FERRETDB_VERSION = /\+paygraph\.pushdown$/;

async function chooseIdReads(client: MongoClient, configured: MongoConfig['idReads']): Promise<IdReads> {
  if (configured !== 'auto') return configured;
  const info = await client.db('admin').command({ buildInfo: 1 });
  if (!('ferretdbVersion' in info)) return 'in';
  return EMBEDDED_FERRETDB_VERSION.test(String(info.ferretdbVersion)) ? 'in' : 'point';
}

/**
 * Ids per `$in` read. The embedded store answers an `$in` of up to 500 values from its index
 * (pushdown.go's maxPushedInValues) and decodes the whole collection beyond that; the gateway's
 * batches (gateway/subgraph-batching.ts) make DataLoader batches of a thousand ids and more.
 * Larger batches are read as several reads of at most this many ids, sent together.
 */
export const MAX_IDS_PER_READ = 500;

/** Documents by `_id` (duplicates read once, missing ones left out), as this store reads them best. */
export async function findByIds<T extends Document & { _id: string }>(collection: Collection<T>, ids: readonly string[], options: FindOptions = {}): Promise<WithId<T>[]> {
  const unique = [...new Set(ids)];
  if (idReads === 'in' && unique.length > MAX_IDS_PER_READ) {
    const chunks: string[][] = [];
    for (let start = 0; start < unique.length; start += MAX_IDS_PER_READ) chunks.push(unique.slice(start, start + MAX_IDS_PER_READ));
    return (await Promise.all(chunks.map((chunk) => findByIds(collection, chunk, options)))).flat();
  }
  if (idReads === 'in') {
    const batch = await findInOneBatch(collection, unique, options);
    if (batch) return batch;
    return collection.find({ _id: { $in: unique } } as Filter<T>, { ...options, batchSize: unique.length + 1 }).toArray();
  }
  const docs: (WithId<T> | null)[] = await Promise.all(unique.map((_id) => collection.findOne({ _id } as Filter<T>, options)));
  return docs.filter((doc): doc is WithId<T> => doc !== null);
}

/**
 * The documents of one `find` by `_id`, sent as a plain command and answered in its first
 * batch; undefined when the answer needs more than one batch (over 16 MB), for the cursor to
 * read. A batch read is the hottest read of every subgraph, and the cursor API costs more than
 * the command: with commands monitored (metrics.ts) the driver decodes a cursor's reply twice,
 * once for the monitoring event and again for the cursor; a command's reply is decoded once.
 */
async function findInOneBatch<T extends Document>(collection: Collection<T>, ids: readonly string[], options: FindOptions): Promise<WithId<T>[] | undefined> {
  const { projection, session, ...others } = options;
  if (Object.keys(others).length > 0) return undefined; // options only the cursor API knows
  const reply = await collection.db.command(
    { find: collection.collectionName, filter: { _id: { $in: ids } }, batchSize: ids.length + 1, ...(projection ? { projection } : {}) },
    // As the collection decodes (useBigInt64: int64 minor units come back as BigInt, as from find).
    { session, ...collection.bsonOptions },
  );
  const cursor = reply.cursor as { id: bigint | number | { isZero(): boolean }; firstBatch: WithId<T>[] };
  const open = typeof cursor.id === 'object' ? !cursor.id.isZero() : BigInt(cursor.id) !== 0n;
  if (!open) return cursor.firstBatch;
  await collection.db.command({ killCursors: collection.collectionName, cursors: [cursor.id] }, { session });
  return undefined;
}
