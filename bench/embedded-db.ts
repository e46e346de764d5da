import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startEmbeddedDb } from '../runtime/embedded-db/launcher';
import { cpuMillis } from './gateways/cpu';
import { PaymentsRepository } from '../subgraphs/payments/repository';
import { pickRandom, seedVolume } from './volume-seed';

/**
 * `npm run bench:db`: what one read costs the embedded FerretDB itself, without Node or a
 * gateway around it. On the benchmark's volume (seeded as `npm run bench` seeds it), clients
 * read batches of payments by `_id` with `$in`, as the payments subgraph does for a fan-out,
 * and the database's own CPU time (from /proc) is divided by the reads it answered. Prints
 * the figures; asserts nothing. `--binary <path>` measures another build of the same wrapper
 * (an older one from the build cache, say) on the same data. `--read account` (or `customer`)
 * reads instead one account's (customer's) newest page of payments, as `payments(filter:
 * { accountId })` and `Account.payments` do, through the payments subgraph's own repository.
 */
const PREFIX = 'paygraph_bench_';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      clients: { type: 'string', default: '8' },
      batch: { type: 'string', default: '20' },
      binary: { type: 'string' },
      read: { type: 'string', default: 'ids' },
    },
  });
  const dataDir = process.env.BENCH_DATA_DIR ?? join(tmpdir(), 'paygraph-bench-volume');
  mkdirSync(dataDir, { recursive: true });
  const db = await startEmbeddedDb({ dataDir, binary: values.binary });
  const client = await MongoClient.connect(db.uri, { maxPoolSize: Number(values.clients) * 2 });
  try {
    const volume = await seedVolume(db.uri, PREFIX, undefined, (line) => console.log(line));
    const payments = client.db(`${PREFIX}payments`).collection<{ _id: string }>('payments');
    const batch = Number(values.batch);
    let read: () => Promise<unknown[]>;
    let what: string;
    if (values.read === 'account' || values.read === 'customer') {
      const repository = new PaymentsRepository(client.db(`${PREFIX}payments`));
      // The subgraph declares its indexes at start; the embedded build indexes them within seconds.
      await repository.ensureIndexes();
      read = values.read === 'account'
        ? () => repository.listPayments({ accountId: pickRandom(volume.accountIds) }, batch)
        : () => repository.listPayments({ customerId: pickRandom(volume.customerIds) }, batch);
      what = `pages of up to ${batch} of one ${values.read}'s payments`;
      const ready = Date.now();
      while (Date.now() - ready < 60_000) {
        const started = Date.now();
        await read();
        if (Date.now() - started < 100) break;
      }
    } else {
      read = () => {
        const start = Math.floor(Math.random() * (volume.paymentIds.length - batch));
        return payments.find({ _id: { $in: volume.paymentIds.slice(start, start + batch) } }).toArray();
      };
      what = `reads of ${batch} payments by _id`;
    }
    for (let i = 0; i < 200; i++) await read(); // warm: page cache, connections, the Go runtime
    const cpuBefore = cpuMillis(db.process.pid);
    const started = Date.now();
    let reads = 0;
    let documents = 0;
    await Promise.all(
      Array.from({ length: Number(values.clients) }, async () => {
        while (Date.now() - started < Number(values.seconds) * 1000) {
          const found = await read(); // (not `documents += await …`: that reads the total before awaiting)
          documents += found.length;
          reads += 1;
        }
      }),
    );
    const elapsed = (Date.now() - started) / 1000;
    const cpu = cpuMillis(db.process.pid);
    console.log(`${reads} ${what} in ${elapsed.toFixed(1)} s with ${values.clients} clients: ${(reads / elapsed).toFixed(0)} reads/s, ${(documents / reads).toFixed(1)} documents each`);
    if (cpuBefore !== null && cpu !== null) console.log(`database CPU per read: ${((cpu - cpuBefore) / reads).toFixed(2)} ms (${((cpu - cpuBefore) / elapsed / 10).toFixed(0)}% of one core)`);
  } finally {
    await client.close();
    await db.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
