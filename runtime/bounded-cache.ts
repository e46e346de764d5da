/**
 * A Map used as a bounded cache: when it holds `max` entries, the oldest inserted goes to make
 * room. Enough for the gateway's per-document caches, whose working set is a few documents a
 * client sends again and again; the bound only stops a stream of distinct ones growing memory.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}

/** The value cached under `key`, computed and kept (bounded, as setBounded) the first time. */
export function cachedValue<K, V>(map: Map<K, V>, key: K, max: number, compute: () => V): V {
  if (map.has(key)) return map.get(key) as V;
  const value = compute();
  setBounded(map, key, value, max);
  return value;
}
