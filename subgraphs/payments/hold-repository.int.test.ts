import { isolateDatabases } from '../../tests/support/database';
import { connectMongo, readMongoConfig, type MongoHandle } from '../../runtime/mongo';
import { HoldRepository } from './hold-repository';

isolateDatabases();

/** The sweeper's lease against the real embedded store: one owner at a time, taken over once it runs out. */
let mongo: MongoHandle;
let repository: HoldRepository;

beforeAll(async () => {
  mongo = await connectMongo(readMongoConfig());
  repository = new HoldRepository(mongo.database('payments'));
});
afterAll(async () => {
  await mongo?.close();
});

test('of instances racing for the lease one wins; it renews; another takes it only once it ran out or was given up', async () => {
  const now = new Date('2026-12-04T12:00:00.000Z');
  const won = await Promise.all(['a', 'b', 'c'].map((owner) => repository.acquireLease('job-1', owner, now, 1_000)));
  expect(won.filter(Boolean)).toHaveLength(1);
  const owner = ['a', 'b', 'c'][won.indexOf(true)];
  const other = owner === 'a' ? 'b' : 'a';

  const later = new Date(now.getTime() + 500);
  expect(await repository.acquireLease('job-1', other, later, 1_000)).toBe(false);
  expect(await repository.acquireLease('job-1', owner, later, 1_000)).toBe(true);
  // Renewed at +500 until +1500: still the owner's at +1200, free at +1600.
  expect(await repository.acquireLease('job-1', other, new Date(now.getTime() + 1_200), 1_000)).toBe(false);
  expect(await repository.acquireLease('job-1', other, new Date(now.getTime() + 1_600), 1_000)).toBe(true);

  await repository.releaseLease('job-1', other);
  expect(await repository.acquireLease('job-1', owner, new Date(now.getTime() + 1_700), 1_000)).toBe(true);
});
