import { BSON, MongoClient, type Document } from 'mongodb';
import { perRequest, snapshot } from '../gateways/cpu';
import { percentile, runClosedLoop, type LoopLimit } from '../support';
import { untilIdle } from './idle';

/**
 * The store's physical floor for a payment: single-document inserts of a payment-sized
 * document into a scratch collection with one unique index, through the same driver, in a
 * closed loop. A settled payment is several writes, so the payment rate divided by this one
 * reads as how close the graph comes to what the store can do at all.
 */
export interface RawInsertResult {
  writers: number;
  inserts: number;
  seconds: number;
  insertsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The database process's CPU ms per insert. */
  dbCpuMsPerInsert: number | null;
}

export interface RawInserts {
  /** BSON size of the document inserted: a settled payment of this run, when there is one. */
  documentBytes: number;
  results: RawInsertResult[];
}

/** A settled payment of this run as the template (its `_id` and key replaced per insert). */
async function paymentTemplate(client: MongoClient, dbPrefix: string): Promise<Document> {
  const settled = await client.db(`${dbPrefix}payments`).collection('payments').findOne({ status: 'SETTLED' });
  if (settled) return settled;
  const now = new Date();
  return {
    status: 'SETTLED', version: 4, createdBy: 'bench-operator', sourceAccountId: 'acc_0123456789abcdef', destinationAccountId: 'acc_fedcba9876543210',
    accountIds: ['acc_0123456789abcdef', 'acc_fedcba9876543210'], customerIds: ['cus_0123456789abcdef', 'cus_fedcba9876543210'],
    amountMinor: 1234, currency: 'USD', usdEquivalentMinor: 1234, reference: null, requiredApprovals: 0, approvals: [],
    parties: { customerName: 'Bench Payer', customerCountry: 'US', accountCreatedAt: now.toISOString(), counterpartyCustomerId: 'cus_fedcba9876543210', counterpartyName: 'Bench Payee', counterpartyCountry: 'US', crossBorder: false },
    steps: { risk: { decision: 'APPROVE', at: now }, compliance: { status: 'CLEARED', at: now }, transfer: { at: now } },
    createdAt: now, updatedAt: now,
  };
}

export async function measureRawInserts(options: { mongoUri: string; dbPrefix: string; writers: number[]; limit: LoopLimit; dbPid: number | undefined; pids: Record<string, number | undefined> }): Promise<RawInserts> {
  const client = await MongoClient.connect(options.mongoUri);
  const scratch = client.db(`${options.dbPrefix}bench_scratch`);
  try {
    const { _id: _ignored, ...template } = await paymentTemplate(client, options.dbPrefix);
    const documentBytes = BSON.calculateObjectSize({ _id: 'pay_0123456789abcdef', ...template });
    const results: RawInsertResult[] = [];
    for (const writers of options.writers) {
      const collection = scratch.collection(`inserts_${writers}_${Date.now()}`);
      await collection.createIndex({ idempotencyKey: 1 }, { unique: true });
      await untilIdle(options.pids);
      const before = snapshot({ ferretdb: options.dbPid });
      const started = performance.now();
      let lastAnswer = started;
      const latencies = await runClosedLoop(options.limit, writers, async (i) => {
        await collection.insertOne({ ...template, _id: `raw_${writers}_${i}` as never, idempotencyKey: `raw-${writers}-${i}` });
        lastAnswer = performance.now();
      });
      const seconds = (lastAnswer - started) / 1000;
      const dbCpu = perRequest(before, snapshot({ ferretdb: options.dbPid }), latencies.length).ferretdb;
      results.push({ writers, inserts: latencies.length, seconds, insertsPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), dbCpuMsPerInsert: dbCpu ?? null });
    }
    return { documentBytes, results };
  } finally {
    await scratch.dropDatabase().catch(() => undefined);
    await client.close();
  }
}
