import type { Collection, Filter, OptionalUnlessRequiredId } from 'mongodb';
import { insertInOrder } from './mongo';
import { TickBatcher } from './tick-batcher';

/**
 * Appends to a log whose records carry a gap-free `sequence` under a unique index (the
 * payment event log, the audit chain), by group commit: every record appended while a batch
 * is being written waits and goes in the next one, as one ordered insert. A caller is answered
 * when the batch holding its records is acknowledged.
 *
 * Without transactions the unique index is the lock. An ordered insert writes a prefix and
 * stops at the first failure, so a batch never leaves a gap: on a collision the records before
 * it stand, the ones already in the log (a re-append) are taken as they are, and the rest are
 * sealed again after the tail another process wrote. Inside one process the tail is remembered,
 * so the common case is one insert for the whole batch and no read.
 */
export interface LogRecord {
  readonly _id: string;
  readonly sequence: number;
}

export interface SequencedLogStore<R extends LogRecord, D extends { readonly _id: string }> {
  /** The record with the highest sequence, or null for an empty log (read once, when first needed). */
  readTail(): Promise<R | null>;
  /** Records with a sequence above `sequence`, in any order: how a writer learns what others appended. */
  readAfter(sequence: number): Promise<R[]>;
  /** The records already in the log under these ids. */
  readByIds(ids: string[]): Promise<R[]>;
  /** The record `draft` becomes when it follows `previous`: sequence previous + 1, and whatever chains them. */
  seal(draft: D, previous: R | null): R;
  /** Inserts in order as one command: how many were written before a duplicate key stopped it (insertInOrder). */
  insertOrdered(records: R[]): Promise<number>;
}

/** The store of a log kept in one collection with a unique `sequence` index; `seal` says what a record adds to its draft. */
export function collectionLog<R extends LogRecord, D extends { readonly _id: string }>(collection: Collection<R>, seal: SequencedLogStore<R, D>['seal']): SequencedLogStore<R, D> {
  return {
    readTail: async () => ((await collection.find({}).sort({ sequence: -1 }).limit(1).toArray())[0] as R | undefined) ?? null,
    readAfter: async (sequence) => (await collection.find({ sequence: { $gt: sequence } } as Filter<R>).toArray()) as R[],
    readByIds: async (ids) => (await collection.find({ _id: { $in: ids } } as Filter<R>).toArray()) as R[],
    seal,
    insertOrdered: (records) => insertInOrder(collection, records as OptionalUnlessRequiredId<R>[]),
  };
}

export interface SequencedLogOptions {
  /** Most appends (callers) in one insert; more wait for the next. Default 256. */
  maxBatch?: number;
  /** Collisions with other writers tolerated for one batch before its callers get an error. Default 200. */
  maxAttempts?: number;
}

export class SequencedLog<R extends LogRecord, D extends { readonly _id: string }> {
  private tail: R | null | undefined;
  private readonly maxAttempts: number;
  /** Appends of one moment, written together: batches go one after the other, so sequences stay in order. */
  private readonly batcher: TickBatcher<D[], R[]>;

  constructor(
    private readonly store: SequencedLogStore<R, D>,
    private readonly options: SequencedLogOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 200;
    this.batcher = new TickBatcher((appends) => this.writeAppends(appends), { maxBatch: options.maxBatch });
  }

  /** Appends the drafts in order (each id once: a draft already in the log comes back as it is there). */
  append(drafts: D[]): Promise<R[]> {
    if (drafts.length === 0) return Promise.resolve([]);
    return this.batcher.submit(drafts);
  }

  private async writeAppends(appends: D[][]): Promise<R[][]> {
    try {
      const written = await this.write(appends.flat());
      return appends.map((drafts) => drafts.map((draft) => written.get(draft._id)!));
    } catch (error) {
      this.tail = undefined;
      throw error;
    }
  }

  /** Writes the drafts as one ordered insert (more after collisions): each id's record. */
  private async write(drafts: D[]): Promise<Map<string, R>> {
    const records = new Map<string, R>();
    const ids = new Set<string>();
    let remaining = drafts.filter((draft) => !ids.has(draft._id) && ids.add(draft._id));
    for (let attempt = 0; remaining.length > 0; attempt++) {
      if (this.tail === undefined) this.tail = await this.store.readTail();
      const sealed: R[] = [];
      for (const draft of remaining) sealed.push(this.store.seal(draft, sealed.at(-1) ?? this.tail));
      const written = await this.store.insertOrdered(sealed);
      for (const record of sealed.slice(0, written)) records.set(record._id, record);
      if (written > 0) this.tail = sealed[written - 1];
      if (written === sealed.length) return records;
      if (attempt >= this.maxAttempts) throw new Error(`the log's sequence was taken by other writers ${attempt + 1} times in a row`);
      const rest = remaining.slice(written);
      // Records some earlier attempt (or process) appended are answered as they are.
      const existing = await this.store.readByIds(rest.map((draft) => draft._id));
      for (const record of existing) records.set(record._id, record);
      remaining = rest.filter((draft) => !records.has(draft._id));
      // Another process took the next sequence: continue after what it wrote.
      const newer = await this.store.readAfter(this.tail?.sequence ?? 0);
      if (newer.length > 0) this.tail = newer.reduce((last, record) => (record.sequence > last.sequence ? record : last));
      else if (existing.length === 0) throw new Error('an append collided on a unique key other than its id or sequence');
      if (remaining.length > 0 && newer.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(20, attempt + 1)));
    }
    return records;
  }
}
