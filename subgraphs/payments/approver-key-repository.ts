import type { Collection, Db } from 'mongodb';
import { badInput, notFound } from '../../runtime/errors';
import type { ParsedPublicKey } from './approver-key-crypto';

/** The only module touching `approver_keys`: approvers' Ed25519 public keys, never deleted (audits re-verify old signatures). */
export interface ApproverKeyDoc {
  /** Derived from the key (approver-key-crypto.ts): one key, one id. */
  _id: string;
  approver: string;
  /** SPKI PEM. */
  publicKey: string;
  fingerprint: string;
  registeredAt: Date;
  registeredBy: string;
  revokedAt: Date | null;
  revokedBy: string | null;
}

const DUPLICATE_KEY = 11000;
const MAX_LISTED = 500;

export class ApproverKeyRepository {
  private readonly keys: Collection<ApproverKeyDoc>;

  constructor(db: Db) {
    this.keys = db.collection<ApproverKeyDoc>('approver_keys');
  }

  async ensureIndexes(): Promise<void> {
    // Listing by approver, and counting the active keys a policy may draw on.
    await this.keys.createIndex({ approver: 1, registeredAt: 1 });
  }

  /**
   * Registers a key for `approver`; the same key again for the same approver is the same
   * registration (one insert under the unique _id: concurrent registrations agree). A key
   * already registered to someone else, or revoked, is refused.
   */
  async register(key: ParsedPublicKey, approver: string, registeredBy: string): Promise<ApproverKeyDoc> {
    const doc: ApproverKeyDoc = {
      _id: key.keyId, approver, publicKey: key.pem, fingerprint: key.fingerprint, registeredAt: new Date(), registeredBy, revokedAt: null, revokedBy: null,
    };
    try {
      await this.keys.insertOne(doc);
      return doc;
    } catch (error) {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
    }
    const existing = await this.find(key.keyId);
    if (!existing) throw new Error(`approver key ${key.keyId} collided but cannot be read`);
    if (existing.approver !== approver) throw badInput('this public key is registered to another approver', { field: 'publicKey', keyId: existing._id });
    if (existing.revokedAt) throw badInput('this public key was revoked; register a new key', { field: 'publicKey', keyId: existing._id });
    return existing;
  }

  /** Revokes a key (again: unchanged). Its past signatures stay verifiable; it signs nothing new. */
  async revoke(keyId: string, revokedBy: string): Promise<ApproverKeyDoc> {
    await this.keys.updateOne({ _id: keyId, revokedAt: null }, { $set: { revokedAt: new Date(), revokedBy } });
    const doc = await this.find(keyId);
    if (!doc) throw notFound('approver key', keyId);
    return doc;
  }

  async find(keyId: string): Promise<ApproverKeyDoc | null> {
    return this.keys.findOne({ _id: keyId });
  }

  async findMany(keyIds: readonly string[]): Promise<ApproverKeyDoc[]> {
    if (keyIds.length === 0) return [];
    return this.keys.find({ _id: { $in: [...new Set(keyIds)] } }).toArray();
  }

  async list(filter: { approver?: string; includeRevoked: boolean }): Promise<ApproverKeyDoc[]> {
    const query: Record<string, unknown> = {};
    if (filter.approver !== undefined) query.approver = filter.approver;
    if (!filter.includeRevoked) query.revokedAt = null;
    return this.keys.find(query).sort({ approver: 1, registeredAt: 1 }).limit(MAX_LISTED).toArray();
  }

  /** Distinct approvers holding an active key, the creator left out: the M of "N of M". */
  async countEligibleApprovers(creator: string): Promise<number> {
    const approvers = await this.keys.distinct('approver', { revokedAt: null });
    return approvers.filter((a) => a !== creator).length;
  }
}
