import { createHash } from 'node:crypto';
import { BSON, MongoClient } from 'mongodb';
import { SUBGRAPH_NAMES } from '../../runtime/config';

/**
 * A digest of every document in every collection of the four subgraph databases: two equal
 * fingerprints mean nothing in any database changed in between.
 */
export async function databaseFingerprint(mongoUri: string, prefix: string): Promise<Record<string, string>> {
  const client = new MongoClient(mongoUri);
  await client.connect();
  try {
    const result: Record<string, string> = {};
    for (const name of SUBGRAPH_NAMES) {
      const db = client.db(`${prefix}${name}`);
      const collections = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
      for (const collection of collections) {
        const docs = await db.collection(collection).find({}).sort({ _id: 1 }).toArray();
        const hash = createHash('sha256').update(BSON.EJSON.stringify(docs, { relaxed: false })).digest('hex').slice(0, 16);
        result[`${name}.${collection}`] = `${docs.length}:${hash}`;
      }
    }
    return result;
  } finally {
    await client.close();
  }
}
