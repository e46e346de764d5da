import type { Collection } from 'mongodb';
import { isolateDatabases } from '../tests/support/database';
import { connectMongo, findByIds, MAX_IDS_PER_READ, readMongoConfig, type MongoHandle } from './mongo';
import { dbCommands, registerDbMetrics } from './metrics';

/**
 * findByIds, the batch read behind every subgraph's DataLoaders, on the embedded database:
 * one command per batch, every document found once, and a batch larger than one reply can
 * carry still read whole.
 */
isolateDatabases();

interface Item {
  _id: string;
  n: number;
  text?: string;
}

let mongo: MongoHandle;
let items: Collection<Item>;

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
  registerDbMetrics(mongo.client, 'test');
  items = mongo.database('findbyids').collection<Item>('items');
  await items.insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: `item-${i}`, n: i })));
});

afterAll(async () => {
  await mongo.database('findbyids').dropDatabase();
  await mongo.client.close();
});

async function commandsDuring(work: () => Promise<unknown>): Promise<number> {
  const count = async () => (await dbCommands.get()).values.filter((v) => v.labels.command === 'find').reduce((sum, v) => sum + v.value, 0);
  const before = await count();
  await work();
  return (await count()) - before;
}

test('reads a batch with one command: duplicates once, missing ids left out', async () => {
  let found: Item[] = [];
  const commands = await commandsDuring(async () => {
    found = await findByIds(items, ['item-3', 'item-1', 'item-3', 'missing', 'item-29']);
  });
  expect(found.map((item) => item._id).sort()).toEqual(['item-1', 'item-29', 'item-3']);
  expect(found.find((item) => item._id === 'item-29')).toEqual({ _id: 'item-29', n: 29 });
  expect(commands).toBe(1);
});

test('applies a projection', async () => {
  const found = await findByIds(items, ['item-2'], { projection: { n: 0 } });
  expect(found).toEqual([{ _id: 'item-2' }]);
});

// MongoDB answers at most 16 MB per batch, and findByIds reads the rest through a cursor; the
// embedded FerretDB sends the whole batch in one reply. Either way every document comes back.
test('reads whole a batch larger than one MongoDB reply can carry (16 MB)', async () => {
  const big = mongo.database('findbyids').collection<Item>('big');
  const text = 'x'.repeat(1024 * 1024);
  const ids = Array.from({ length: 20 }, (_, i) => `big-${i}`);
  await big.insertMany(ids.map((_id, n) => ({ _id, n, text })));
  const found = await findByIds(big, ids);
  expect(found.map((item) => item._id).sort()).toEqual([...ids].sort());
  expect(found.every((item) => item.text?.length === text.length)).toBe(true);
});

// Batched fetches from the gateway make DataLoader batches of thousands of ids; beyond
// MAX_IDS_PER_READ the embedded store would scan, so such a batch is read in chunks.
test('reads a batch larger than MAX_IDS_PER_READ in chunks of at most that many ids, every document once', async () => {
  const many = mongo.database('findbyids').collection<Item>('many');
  const ids = Array.from({ length: 2 * MAX_IDS_PER_READ + 7 }, (_, i) => `many-${i}`);
  await many.insertMany(ids.map((_id, n) => ({ _id, n })));
  let found: Item[] = [];
  const commands = await commandsDuring(async () => {
    found = await findByIds(many, [...ids, ...ids.slice(0, 50), 'missing']);
  });
  expect(commands).toBe(3);
  expect(found).toHaveLength(ids.length);
  expect(new Set(found.map((item) => item._id))).toEqual(new Set(ids));
});
