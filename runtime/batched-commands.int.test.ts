import { isolateDatabases } from '../tests/support/database';
import { conditionalUpdates, guardedInserts, pointReads } from './batched-commands';
import { connectMongo, readMongoConfig, type MongoHandle } from './mongo';

isolateDatabases();
let mongo: MongoHandle;

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
});
afterAll(async () => {
  await mongo.close();
});

interface Doc {
  _id: string;
  key?: string;
  version: number;
  status?: string;
}

test('concurrent guarded inserts share one insertMany; each caller learns whether its key was free', async () => {
  const collection = mongo.database('batched').collection<Doc>('inserts');
  await collection.createIndex({ key: 1 }, { unique: true });
  await collection.insertOne({ _id: 'taken', key: 'k-taken', version: 0 });
  const sizes: number[] = [];
  const inserts = guardedInserts(collection, { onBatch: (n) => sizes.push(n) });
  const answers = await Promise.all([
    inserts.submit({ _id: 'a', key: 'k-a', version: 0 }),
    inserts.submit({ _id: 'b', key: 'k-taken', version: 0 }),
    inserts.submit({ _id: 'taken', key: 'k-c', version: 0 }),
    inserts.submit({ _id: 'd', key: 'k-d', version: 0 }),
    inserts.submit({ _id: 'e', key: 'k-d', version: 0 }),
  ]);
  expect(answers).toEqual([true, false, false, true, false]);
  expect(sizes).toEqual([5]);
  expect((await collection.find({}).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual(['a', 'd', 'taken']);
});

test('concurrent compare-and-sets share one bulkWrite; each learns whether its condition held', async () => {
  const collection = mongo.database('batched').collection<Doc>('updates');
  await collection.insertMany([{ _id: 'p1', version: 0, status: 'PENDING' }, { _id: 'p2', version: 3, status: 'PENDING' }, { _id: 'p3', version: 0, status: 'PENDING' }]);
  const updates = conditionalUpdates(collection);
  const cas = (id: string, version: number, status: string) => updates.submit({ filter: { _id: id, version }, update: { $set: { status }, $inc: { version: 1 } } });
  // p1 twice on the same version: only the first wins. p2 on a stale version: refused.
  expect(await Promise.all([cas('p1', 0, 'PROCESSING'), cas('p1', 0, 'CANCELED'), cas('p2', 0, 'PROCESSING'), cas('p3', 0, 'PROCESSING')])).toEqual([true, false, false, true]);
  const docs = await collection.find({}, { projection: { _writeToken: 0 } }).sort({ _id: 1 }).toArray();
  expect(docs).toEqual([{ _id: 'p1', version: 1, status: 'PROCESSING' }, { _id: 'p2', version: 3, status: 'PENDING' }, { _id: 'p3', version: 1, status: 'PROCESSING' }]);
  // All matched: answered without a read back.
  expect(await Promise.all([cas('p1', 1, 'SETTLED'), cas('p3', 1, 'SETTLED')])).toEqual([true, true]);
});

test('concurrent point reads share one $in find', async () => {
  const collection = mongo.database('batched').collection<Doc>('reads');
  await collection.insertMany([{ _id: 'r1', version: 0 }, { _id: 'r2', version: 5 }]);
  const reads = pointReads(collection);
  const [r1, missing, r2, again] = await Promise.all([reads.submit('r1'), reads.submit('nope'), reads.submit('r2'), reads.submit('r1')]);
  expect([r1?.version, missing, r2?.version, again?.version]).toEqual([0, null, 5, 0]);
});
