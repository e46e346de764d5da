import type { Collection, Db, Filter } from 'mongodb';
import { insertIfAbsent } from '../../runtime/mongo';
import type { PaymentDoc } from './repository';

/** A lease on a periodic job: the instance holding it runs the job, the others skip it. */
export interface JobLeaseDoc {
  _id: string;
  owner: string;
  until: Date;
  version: number;
}

/** The hold sweeper's collections: its lease, and the authorized payments it looks for (by the status index). */
export class HoldRepository {
  private readonly leases: Collection<JobLeaseDoc>;
  private readonly payments: Collection<PaymentDoc>;

  constructor(db: Db) {
    this.leases = db.collection<JobLeaseDoc>('job_leases');
    this.payments = db.collection<PaymentDoc>('payments');
  }

  /**
   * Takes or renews the lease `job` for `owner` until now + ms: false while another owner's
   * lease runs. A compare-and-set on the version, so of two instances racing one wins.
   */
  async acquireLease(job: string, owner: string, now: Date, ms: number): Promise<boolean> {
    const until = new Date(now.getTime() + ms);
    const lease = await this.leases.findOne({ _id: job });
    if (!lease) return insertIfAbsent(this.leases, { _id: job, owner, until, version: 0 });
    if (lease.owner !== owner && lease.until > now) return false;
    const result = await this.leases.updateOne({ _id: job, version: lease.version }, { $set: { owner, until }, $inc: { version: 1 } });
    return result.modifiedCount === 1;
  }

  /** Gives the lease up (shutdown), so another instance takes over without waiting for it to run out. */
  async releaseLease(job: string, owner: string): Promise<void> {
    await this.leases.updateOne({ _id: job, owner }, { $set: { until: new Date(0) }, $inc: { version: 1 } });
  }

  /**
   * AUTHORIZED payments whose hold has lapsed, or whose close was committed before
   * `closingBefore` and is not recorded yet (a crash interrupted it; younger ones are left to
   * the process making them), oldest first.
   */
  async authorizationsToSweep(now: Date, closingBefore: Date, limit: number): Promise<PaymentDoc[]> {
    return this.payments
      .find({
        status: 'AUTHORIZED',
        $or: [{ 'authorization.expiresAt': { $lte: now } }, { 'authorization.closing.at': { $lte: closingBefore } }],
      } as Filter<PaymentDoc>)
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
  }
}
