import type { Collection, Db } from 'mongodb';
import { insertIfAbsent } from '../../runtime/mongo';

/** One subgraph's SDL as it stands in a supergraph version. */
export interface PublishedSubgraph {
  sdl: string;
  /** sha256 of the normalised SDL: a publish of the same SDL is not a change. */
  digest: string;
  /** The label the subgraph published with (SUBGRAPH_VERSION), or `base` for the repository's SDL. */
  version: string;
  publishedAt: Date;
}

/** A good composition: versions count up from 1 with no gap (unique `_id`). */
export interface SupergraphRecord {
  _id: number;
  supergraphSdl: string;
  subgraphs: Record<string, PublishedSubgraph>;
  /** The publish that made this version. */
  cause: { subgraph: string; version: string };
  warnings: string[];
  createdAt: Date;
}

/** A publish that did not compose or failed a check; numbered 1, 2, … like supergraphs. */
export interface RejectionRecord {
  _id: number;
  subgraph: string;
  version: string;
  digest: string;
  reasons: string[];
  /** The supergraph version that stayed current. */
  currentVersion: number;
  rejectedAt: Date;
}

/** Client usage of one schema coordinate: `uses.<client>~<operation>` holds when it was last seen. */
export interface UsageRecord {
  _id: string;
  lastSeen: Date;
  uses: Record<string, Date>;
}

interface HeadRecord {
  _id: 'supergraph' | 'rejection';
  sequence: number;
}

/**
 * The schema registry's collections in the gateway's database (`<prefix>gateway`). Every
 * hot read is a point read by `_id` (the only filter FerretDB 1.x pushes down). Versions are
 * decided by inserting `_id: n + 1` against the unique `_id`: two publishers racing for the
 * same number cannot both win, on MongoDB or FerretDB, with no transaction. The head records
 * only remember roughly where the tail is; readers probe forward from them.
 */
export class RegistryStore {
  readonly supergraphs: Collection<SupergraphRecord>;
  readonly rejections: Collection<RejectionRecord>;
  readonly usage: Collection<UsageRecord>;
  private readonly heads: Collection<HeadRecord>;

  constructor(db: Db) {
    this.supergraphs = db.collection<SupergraphRecord>('schema_supergraphs');
    this.rejections = db.collection<RejectionRecord>('schema_rejections');
    this.usage = db.collection<UsageRecord>('schema_usage');
    this.heads = db.collection<HeadRecord>('schema_heads');
  }

  /** The newest sequence number of a log, probing on from `from` (a number known to exist) or the head; 0 when empty. */
  private async tail(collection: Collection<SupergraphRecord> | Collection<RejectionRecord>, head: HeadRecord['_id'], from?: number): Promise<number> {
    // Nothing known yet: start from the head hint rather than probe the whole log.
    let sequence = from || ((await this.heads.findOne({ _id: head }))?.sequence ?? 0);
    for (;;) {
      const next = await (collection as unknown as Collection<{ _id: number }>).findOne({ _id: sequence + 1 }, { projection: { _id: 1 } });
      if (!next) return sequence;
      sequence += 1;
    }
  }

  async currentSupergraphVersion(knownAtLeast?: number): Promise<number> {
    return this.tail(this.supergraphs, 'supergraph', knownAtLeast);
  }

  async currentSupergraph(): Promise<SupergraphRecord | null> {
    const version = await this.currentSupergraphVersion();
    return version === 0 ? null : this.supergraphs.findOne({ _id: version });
  }

  async supergraph(version: number): Promise<SupergraphRecord | null> {
    return this.supergraphs.findOne({ _id: version });
  }

  /** Stores version `record._id`; false when another publisher took that number first. */
  async insertSupergraph(record: SupergraphRecord): Promise<boolean> {
    const inserted = await insertIfAbsent(this.supergraphs, record);
    if (inserted) await this.advanceHead('supergraph', record._id);
    return inserted;
  }

  async latestRejectionSequence(knownAtLeast?: number): Promise<number> {
    return this.tail(this.rejections, 'rejection', knownAtLeast);
  }

  async rejection(sequence: number): Promise<RejectionRecord | null> {
    return this.rejections.findOne({ _id: sequence });
  }

  /** Appends a rejection under the next free number (retrying when another took it). */
  async recordRejection(rejection: Omit<RejectionRecord, '_id'>): Promise<number> {
    let sequence = await this.latestRejectionSequence();
    for (;;) {
      sequence += 1;
      if (await insertIfAbsent(this.rejections, { _id: sequence, ...rejection })) {
        await this.advanceHead('rejection', sequence);
        return sequence;
      }
    }
  }

  /** The newest rejections, newest first. */
  async recentRejections(limit: number): Promise<RejectionRecord[]> {
    const latest = await this.latestRejectionSequence();
    const wanted = Array.from({ length: Math.min(limit, latest) }, (_, i) => latest - i);
    const found = await Promise.all(wanted.map((sequence) => this.rejection(sequence)));
    return found.filter((r): r is RejectionRecord => r !== null);
  }

  private async advanceHead(head: HeadRecord['_id'], sequence: number): Promise<void> {
    // A lost update (FerretDB's read-modify-write) only leaves the hint behind; readers probe on.
    await this.heads.updateOne({ _id: head }, { $max: { sequence } }, { upsert: true });
  }
}
