import type { AnyBulkWriteOperation } from 'mongodb';
import type { CoordinateUse, UsageLookup } from '../checks/proposal';
import type { RegistryStore, UsageRecord } from './store';

// Client and operation names become one field name: no '.', '$' or '~' may survive in it.
const encodePart = (text: string) => encodeURIComponent(text).replace(/[.~!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function useKey(client: string, operation: string): string {
  return `${encodePart(client)}~${encodePart(operation)}`;
}

export function parseUseKey(key: string): { client: string; operation: string } {
  const [client = '', operation = ''] = key.split('~');
  return { client: decodeURIComponent(client), operation: decodeURIComponent(operation) };
}

/**
 * Writes aggregated uses: one upsert per coordinate, `$max` so a late flush never moves a
 * "last seen" backwards. On FerretDB two gateways flushing the same coordinate at the same
 * instant can lose one's update (read-modify-write); the next flush of a use repeats it.
 */
export async function recordUses(store: RegistryStore, uses: readonly CoordinateUse[]): Promise<void> {
  const byCoordinate = new Map<string, Record<string, Date>>();
  for (const use of uses) {
    const fields = byCoordinate.get(use.coordinate) ?? {};
    const key = `uses.${useKey(use.client, use.operation)}`;
    if (!fields[key] || fields[key] < use.lastSeen) fields[key] = use.lastSeen;
    if (!fields.lastSeen || fields.lastSeen < use.lastSeen) fields.lastSeen = use.lastSeen;
    byCoordinate.set(use.coordinate, fields);
  }
  if (byCoordinate.size === 0) return;
  const operations: AnyBulkWriteOperation<UsageRecord>[] = [...byCoordinate].map(([coordinate, fields]) => ({
    updateOne: { filter: { _id: coordinate }, update: { $max: fields }, upsert: true },
  }));
  await store.usage.bulkWrite(operations, { ordered: false });
}

/** Usage as the check reads it: one point read per coordinate. */
export function registryUsage(store: RegistryStore): UsageLookup {
  return {
    async usesOf(coordinates, since) {
      const records = await Promise.all(coordinates.map((coordinate) => store.usage.findOne({ _id: coordinate })));
      const uses: CoordinateUse[] = [];
      for (const record of records) {
        if (!record) continue;
        for (const [key, lastSeen] of Object.entries(record.uses ?? {})) {
          if (lastSeen >= since) uses.push({ coordinate: record._id, ...parseUseKey(key), lastSeen });
        }
      }
      return uses;
    },
  };
}
