import { randomBytes } from 'node:crypto';
import type { Collection, Document, Filter, OptionalUnlessRequiredId, UpdateFilter, WithId } from 'mongodb';
import { bulkWriteErrors, findByIds, isDuplicateKeyError } from './mongo';
import { TickBatcher, type TickBatcherOptions } from './tick-batcher';

/**
 * The commands concurrent payments repeat — point reads, inserts guarded by a unique index,
 * compare-and-set updates — as group commits (TickBatcher): the calls of one moment go to the
 * database as one find, one insertMany or one bulkWrite, each caller answered as if alone.
 * Nothing here needs a transaction: each statement stands on its own, as it would alone.
 */

/** Point reads by `_id`: one read of the batch's ids per batch (findByIds: one `$in` where the store answers it from the index). */
export function pointReads<T extends Document & { _id: string }>(collection: Collection<T>, options?: TickBatcherOptions): TickBatcher<string, WithId<T> | null> {
  return new TickBatcher(async (ids) => {
    const found = await findByIds(collection, ids);
    const byId = new Map(found.map((doc) => [doc._id as string, doc]));
    return ids.map((id) => byId.get(id) ?? null);
  }, options);
}

/** Inserts that a unique index may refuse: true when inserted, false when the key was taken. One unordered insertMany per batch. */
export function guardedInserts<T extends Document>(collection: Collection<T>, options?: TickBatcherOptions): TickBatcher<OptionalUnlessRequiredId<T>, boolean> {
  return new TickBatcher(async (docs) => {
    try {
      await collection.insertMany(docs, { ordered: false });
      return docs.map(() => true);
    } catch (error) {
      const failed = bulkWriteErrors(error);
      if (!failed?.every((statement) => statement.code === 11000) || !isDuplicateKeyError(error)) throw error;
      const refused = new Set(failed.map((statement) => statement.index));
      return docs.map((_, i) => !refused.has(i));
    }
  }, options);
}

export interface ConditionalUpdate<T> {
  /** Must name the `_id`; the rest is the condition (a status and version, say). */
  filter: Filter<T> & { _id: string };
  update: UpdateFilter<T>;
}

/**
 * Statements in one update command. FerretDB 1.24 keeps each statement's query open until the
 * whole command ends, each on one of its 100 SQLite connections: a command of 100 statements
 * waits for a connection it holds itself, forever (and several large ones together do too).
 */
export const MAX_UPDATE_STATEMENTS = 32;

/**
 * Compare-and-set updates: true when the filter matched. One unordered bulkWrite per batch
 * (at most MAX_UPDATE_STATEMENTS); a bulk result counts matches but does not say which, so each
 * statement also writes a token of its own, read back only when fewer matched than were sent.
 */
export function conditionalUpdates<T extends { _id: string }>(collection: Collection<T>, options?: TickBatcherOptions, tokenField = '_writeToken'): TickBatcher<ConditionalUpdate<T>, boolean> {
  return new TickBatcher(async (updates) => {
    const tokens = updates.map(() => randomBytes(8).toString('hex'));
    const operations = updates.map(({ filter, update }, i) => ({
      updateOne: { filter, update: { ...update, $set: { ...(update.$set ?? {}), [tokenField]: tokens[i] } } as UpdateFilter<T> },
    }));
    const result = await collection.bulkWrite(operations as never, { ordered: false });
    if (result.matchedCount === updates.length) return updates.map(() => true);
    const ids = [...new Set(updates.map((u) => u.filter._id))];
    const after = await collection.find({ _id: { $in: ids } } as Filter<T>, { projection: { [tokenField]: 1 } }).toArray();
    const tokenOf = new Map(after.map((doc) => [doc._id as string, (doc as Record<string, unknown>)[tokenField]]));
    return updates.map((u, i) => tokenOf.get(u.filter._id) === tokens[i]);
  }, { maxBatch: MAX_UPDATE_STATEMENTS, ...options });
}
