import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../runtime/logger';
import type { CoordinateUse } from '../schema/checks/proposal';
import type { RegistryStore } from '../schema/registry/store';
import { recordUses } from '../schema/registry/usage-store';
import { usageCoordinates } from '../schema/usage/coordinates';

/** Headers a client names itself with (Apollo's convention first). */
export const CLIENT_NAME_HEADERS = ['apollographql-client-name', 'x-client-name'] as const;
export const UNKNOWN_CLIENT = '(unknown)';
export const ANONYMOUS_OPERATION = '(anonymous)';

const MAX_PENDING = 10_000;
const MAX_CACHED_DOCUMENTS = 2_000;

interface PendingUse {
  client: string;
  operation: string;
  coordinates: readonly string[];
  lastSeen: number;
}

/**
 * Records, per client and operation, the schema coordinates operations use, for the
 * breaking-change check. The per-request cost is two map lookups: a document's coordinates
 * are computed once per schema and document hash, and uses are aggregated in memory until
 * the periodic flush writes them to the registry (one upsert per coordinate).
 */
export class UsageRecorder {
  private pending = new Map<string, PendingUse>();
  private readonly coordinatesBySchema = new WeakMap<GraphQLSchema, LRUCache<string, readonly string[]>>();
  private timer?: NodeJS.Timeout;
  private dropped = 0;

  constructor(
    private readonly registry: () => Promise<RegistryStore | undefined>,
    private readonly log: Logger,
  ) {}

  observe(schema: GraphQLSchema, documentHash: string, document: DocumentNode, operationName: string | null | undefined, clientName: string | null | undefined): void {
    let cache = this.coordinatesBySchema.get(schema);
    if (!cache) this.coordinatesBySchema.set(schema, (cache = new LRUCache({ max: MAX_CACHED_DOCUMENTS })));
    let coordinates = cache.get(documentHash);
    if (!coordinates) cache.set(documentHash, (coordinates = usageCoordinates(schema, document)));
    const client = clientName?.trim().slice(0, 100) || UNKNOWN_CLIENT;
    const operation = operationName || ANONYMOUS_OPERATION;
    const key = `${client}\n${operation}\n${documentHash}`;
    const seen = this.pending.get(key);
    if (seen) seen.lastSeen = Date.now();
    else if (this.pending.size < MAX_PENDING) this.pending.set(key, { client, operation, coordinates, lastSeen: Date.now() });
    else this.dropped += 1;
  }

  plugin(): ApolloServerPlugin {
    const recorder = this;
    return {
      async requestDidStart() {
        return {
          async didResolveOperation(requestContext) {
            const headers = requestContext.request.http?.headers;
            const client = headers ? (headers.get(CLIENT_NAME_HEADERS[0]) ?? headers.get(CLIENT_NAME_HEADERS[1])) : undefined;
            recorder.observe(requestContext.schema, requestContext.queryHash, requestContext.document, requestContext.operationName, client);
          },
        };
      },
    };
  }

  start(flushMs: number): void {
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** Writes what was seen since the last flush; on failure it is kept for the next one. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const uses: CoordinateUse[] = [];
    for (const use of batch.values()) {
      const lastSeen = new Date(use.lastSeen);
      for (const coordinate of use.coordinates) uses.push({ coordinate, client: use.client, operation: use.operation, lastSeen });
    }
    try {
      const store = await this.registry();
      if (!store) throw new Error('schema registry unreachable');
      await recordUses(store, uses);
      if (this.dropped > 0) this.log.warn({ dropped: this.dropped }, 'usage reporting dropped operations over its in-memory bound');
      this.dropped = 0;
    } catch (error) {
      for (const [key, use] of batch) if (!this.pending.has(key) && this.pending.size < MAX_PENDING) this.pending.set(key, use);
      this.log.warn({ err: error }, 'usage flush failed; retrying at the next flush');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
