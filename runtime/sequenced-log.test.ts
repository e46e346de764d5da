import { isolateDatabases } from '../tests/support/database';
import { connectMongo, readMongoConfig, type MongoHandle } from './mongo';
import { SequencedLog } from './sequenced-log';

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

test('two writers (as two processes would) append 200 records: gap-free, each once', async () => {
  const collection = mongo.database('sequenced_log').collection<Entry>('log');
  await collection.createIndex({ sequence: 1 }, { unique: true });
  const readTail = () => collection.find({}, { projection: { sequence: 1 } }).sort({ sequence: -1 }).limit(1).next();
  const writers = [new SequencedLog<{ sequence: number }>(readTail), new SequencedLog<{ sequence: number }>(readTail)];
  const append = (id: string, writer: SequencedLog<{ sequence: number }>) =>
    writer.append<string>(async (tail) => {
      if (await collection.findOne({ _id: id })) return { existing: id };
      const entry = { _id: id, sequence: (tail?.sequence ?? 0) + 1 };
      await collection.insertOne(entry);
      return { inserted: entry, result: id };
    });
  // Every id is appended twice, by both writers at once: the second append must find the first.
  await Promise.all(Array.from({ length: 100 }, (_, i) => [append(`e${i}`, writers[0]), append(`e${i}`, writers[1])]).flat());
  const entries = await collection.find({}).sort({ sequence: 1 }).toArray();
  expect(entries).toHaveLength(100);
  expect(entries.map((entry) => entry.sequence)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  expect(new Set(entries.map((entry) => entry._id)).size).toBe(100);
});
