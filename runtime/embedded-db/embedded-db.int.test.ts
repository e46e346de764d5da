import { Long, MongoClient, ObjectId, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { isolateDatabases } from '../../tests/support/database';

/**
 * Our changes to the embedded FerretDB (ferretdb/patches/) must not change an answer.
 *
 * Documents are decoded by our scanner and fast paths (decode.go): every kind of value, key
 * and nesting must read back exactly as written.
 *
 * Some filters are pushed down to SQLite (pushdown.go) as a condition that must select a
 * superset of the matches. Each filter here is run twice: as
 * written (pushed down) and wrapped in `$and` (which nothing pushes down, so FerretDB matches
 * every document itself). Both must return the same documents, over fields holding every kind
 * of value, and the pushed-down form must be answered from the lookup indexes.
 */
const prefix = isolateDatabases();
const day = (n: number) => new Date(Date.UTC(2026, 0, n));

const values: [string, unknown][] = [
  ['int-1', 1],
  ['int-3', 3],
  ['double-2.5', 2.5],
  ['double-3.0', 3.0],
  ['long-big', Long.fromString('9007199254740993')],
  ['negative', -7],
  ['string-3', '3'],
  ['string-abc', 'abc'],
  ['true', true],
  ['null', null],
  ['array-1-10', [1, 10]],
  ['array-strings', ['abc', 'x']],
  ['object', { a: 5 }],
  ['date-5', day(5)],
  ['date-20', day(20)],
  ['object-id', new ObjectId('65a000000000000000000001')],
];

let client: MongoClient;
let db: Db;
let things: Collection<Document>;

async function ids(filter: Filter<Document>): Promise<string[]> {
  return (await things.find(filter).toArray()).map((doc) => String(doc._id)).sort();
}

async function plan(filter: Filter<Document>): Promise<string> {
  const explained = await db.command({ explain: { find: things.collectionName, filter } });
  return JSON.stringify(explained.queryPlanner);
}

beforeAll(async () => {
  client = await MongoClient.connect(process.env.MONGODB_URI!);
  db = client.db(`${prefix}pushdown`);
  things = db.collection('things');
  await things.createIndex({ f: 1 });
  await things.insertMany([...values.map(([_id, f]) => ({ _id, f } as Document)), { _id: 'missing' } as Document]);
  // The embedded server adds its lookup indexes within a second of an index being declared.
  const deadline = Date.now() + 10_000;
  while (!(await plan({ f: { $gt: 1 } })).includes('__paygraph_f_value') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

afterAll(async () => {
  await db?.dropDatabase();
  await client?.close();
});

const filters: [string, Filter<Document>][] = [
  ['a string', { f: 'abc' }],
  ['$eq of a string', { f: { $eq: '3' } }],
  ['$in of strings', { f: { $in: ['abc', 'x', 'nothing'] } }],
  ['an ObjectId', { f: new ObjectId('65a000000000000000000001') }],
  ['$gt an int', { f: { $gt: 2 } }],
  ['$gte a double', { f: { $gte: 2.5 } }],
  ['$lt an int', { f: { $lt: 3 } }],
  ['$lte a double equal to an int', { f: { $lte: 3.0 } }],
  ['a closed interval', { f: { $gt: 1, $lte: 3 } }],
  ['an empty interval', { f: { $gt: 5, $lt: 4 } }],
  ['$gt a long beyond doubles', { f: { $gt: Long.fromString('9007199254740992') } }],
  ['$gte a date', { f: { $gte: day(10) } }],
  ['$lt a date', { f: { $lt: day(10) } }],
  ['$gt zero (booleans are not numbers)', { f: { $gt: 0 } }],
  ['$gt a negative', { f: { $gt: -100 } }],
  ['$gt with another operator (not pushed down)', { f: { $gt: 1, $ne: 3 } }],
];

test.each(filters)('%s: the pushed-down filter finds what FerretDB alone finds', async (_label, filter) => {
  expect(await ids(filter)).toEqual(await ids({ $and: [filter] }));
});

test('ranges are answered from the lookup indexes, not a scan', async () => {
  expect(await plan({ f: { $gt: 2 } })).toMatch(/__paygraph_f_value/);
  expect(await plan({ f: { $gte: day(10) } })).toMatch(/__paygraph_f_value/);
  expect(await plan({ f: 'abc' })).toMatch(/USING INDEX \S+__paygraph_f\b/);
});

test('documents of every shape read back exactly as written', async () => {
  const odd = db.collection<Document & { _id: string }>('odd');
  const written: (Document & { _id: string })[] = [
    {
      _id: 'shapes',
      // (FerretDB itself refuses keys holding quotes or backslashes.)
      'key with spaces, é and 漢字': 'value with "quotes", \\ backslash, \n newline, \t tab and \u0001 control',
      'unicode é 漢字 🙂': 'é 漢字 🙂',
      empty: '',
      emptyObject: {},
      emptyArray: [],
      nested: { a: [{ b: [1, { c: 'd', i: [true, 'j'] }] }, { e: null }], f: { g: { h: true } } }, // (FerretDB refuses arrays in arrays)
      brackets: 'text with } ] { [ , : inside',
      numbers: [0, -1, 2.5, 1e-7, Long.fromString('-9223372036854775808'), 123456789012],
      when: day(3),
      id: new ObjectId('65a000000000000000000002'),
    },
  ];
  await odd.insertMany(written);
  expect(await odd.find({ _id: 'shapes' }).toArray()).toEqual(written);
});

test('MongoDB semantics, spelled out for one range: numbers of every width and array elements', async () => {
  expect(await ids({ f: { $gt: 2 } })).toEqual(['array-1-10', 'double-2.5', 'double-3.0', 'int-3', 'long-big'].sort());
});

test('an update command of more statements than the store has connections completes (msg_update.go.patch)', async () => {
  // Stock FerretDB 1.24 keeps every statement's query open until the command ends, each on one
  // of its 100 SQLite connections: this command waited forever for a connection it held itself.
  const counters = db.collection<{ _id: string; n: number }>('update_statements');
  await counters.insertMany(Array.from({ length: 150 }, (_, i) => ({ _id: `c${i}`, n: 0 })));
  const result = await counters.bulkWrite(
    Array.from({ length: 150 }, (_, i) => ({ updateOne: { filter: { _id: `c${i}`, n: 0 }, update: { $inc: { n: 1 } } } })),
    { ordered: false },
  );
  expect(result.matchedCount).toBe(150);
  expect(await counters.countDocuments({ n: 1 })).toBe(150);
}, 30_000);
