import type { Collection } from 'mongodb';
import { isolateDatabases } from '../tests/support/database';
import { connectMongo, readMongoConfig, type MongoHandle } from './mongo';
import { collectionLog, SequencedLog } from './sequenced-log';

isolateDatabases();
let mongo: MongoHandle;

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
});
afterAll(async () => {
  await mongo.close();
});

interface Entry {
  _id: string;
  sequence: number;
}

/** A log over a real collection (the store the subgraphs use), counting the inserts it sends. */
function logOver(collection: Collection<Entry>, inserts: { count: number; sizes: number[] }) {
  const store = collectionLog<Entry, { _id: string }>(collection, (draft, last) => ({ _id: draft._id, sequence: (last?.sequence ?? 0) + 1 }));
  return new SequencedLog<Entry, { _id: string }>({
    ...store,
    insertOrdered: (records) => {
      inserts.count += 1;
      inserts.sizes.push(records.length);
      return store.insertOrdered(records);
    },
  });
}

async function freshLog(name: string): Promise<Collection<Entry>> {
  const collection = mongo.database('sequenced_log').collection<Entry>(name);
  await collection.createIndex({ sequence: 1 }, { unique: true });
  return collection;
}

test('two writers (as two processes would) append 200 records: gap-free, each once', async () => {
  const collection = await freshLog('two_writers');
  const inserts = { count: 0, sizes: [] as number[] };
  const writers = [logOver(collection, inserts), logOver(collection, inserts)];
  // Every id is appended twice, by both writers at once: the second append must find the first.
  const appended = await Promise.all(Array.from({ length: 100 }, (_, i) => [writers[0].append([{ _id: `e${i}` }]), writers[1].append([{ _id: `e${i}` }])]).flat());
  const entries = await collection.find({}).sort({ sequence: 1 }).toArray();
  expect(entries).toHaveLength(100);
  expect(entries.map((entry) => entry.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(new Set(entries.map((entry) => entry._id)).size).toBe(100);
  // Both appends of an id answer with the record that is in the log.
  const bySequence = new Map(entries.map((entry) => [entry._id, entry.sequence]));
  for (const [record] of appended) expect(record.sequence).toBe(bySequence.get(record._id));
});

test('appends of one moment share one ordered insert, each caller answered with its own records in order', async () => {
  const collection = await freshLog('group_commit');
  const inserts = { count: 0, sizes: [] as number[] };
  const log = logOver(collection, inserts);
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => log.append([{ _id: `p${i}:1` }, { _id: `p${i}:2` }, { _id: `p${i}:3` }])));
  expect(inserts.count).toBe(1);
  expect(inserts.sizes).toEqual([90]);
  for (const records of answers) {
    expect(records[1].sequence).toBe(records[0].sequence + 1);
    expect(records[2].sequence).toBe(records[0].sequence + 2);
  }
  // Appended again: answered from the log, nothing new written, nothing skipped.
  const again = await log.append([{ _id: 'p3:1' }, { _id: 'p3:2' }, { _id: 'late:1' }]);
  expect(again.map((record) => record.sequence)).toEqual([answers[3][0].sequence, answers[3][1].sequence, 91]);
  expect(await collection.countDocuments({})).toBe(91);
});
