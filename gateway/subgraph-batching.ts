import { envInt } from '../runtime/config';

/**
 * Concurrent reads for one subgraph travel together.
 *
 * Under load most of a subgraph's cost per fetch is fixed: an HTTP exchange, a signature
 * check, a context with fresh DataLoaders, and one database round trip per loader. When a
 * fetch arrives while `maxInFlight` batches of the same kind (subgraph and operation text)
 * are already on their way, it waits for one of them to come back, and everything that
 * waited goes in the next request (group commit: one request for many fetches, and no wait
 * at all while the subgraph keeps up). Entity fetches of one shape and one caller are merged
 * into one `_entities` operation over all their representations; the rest travel as an HTTP
 * batch (a JSON array), which each subgraph serves with one set of DataLoaders, so the batch
 * reads the database once per loader. Each fetch gets back exactly its own answer: its slice
 * of `_entities`, the errors on its own representations re-indexed, and the errors of the
 * whole operation.
 *
 * Only reads batch (the data source never queues a mutation). Fetches of different callers
 * share a request but never an operation: each operation of a batch names its own caller
 * (signed with the request, see runtime/subgraph-server.ts), and the subgraph authorises each
 * operation as its own caller. The DataLoaders a batch shares read by id for everyone;
 * authorisation happens in the resolvers, per operation.
 */

/** One GraphQL operation for a subgraph, as the data source sends it. */
export interface SubgraphOperation {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
}

export interface SubgraphResultError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** A subgraph's answer to one operation. */
export interface SubgraphResult {
  data?: Record<string, unknown> | null;
  errors?: SubgraphResultError[];
  extensions?: Record<string, unknown>;
}

/** How the data source batches reads (GatewayConfig.batching, read once at start). */
export interface SubgraphBatchingConfig {
  /**
   * Batches of one kind (subgraph and operation text) in flight at once; a fetch beyond that
   * waits and goes with the next batch. Env SUBGRAPH_BATCH_IN_FLIGHT, default 2; 0 turns
   * batching off (every fetch is its own request, at once).
   */
  maxInFlight: number;
  /** Most fetches in one request. Env SUBGRAPH_BATCH_MAX_FETCHES, default 64. */
  maxFetches: number;
}

/** GatewayConfig.batching: read by readGatewayConfig, at start, and nowhere else. */
export function readSubgraphBatchingConfig(): SubgraphBatchingConfig {
  return {
    maxInFlight: envInt('SUBGRAPH_BATCH_IN_FLIGHT', 2, { max: 1000 }),
    maxFetches: envInt('SUBGRAPH_BATCH_MAX_FETCHES', 64, { min: 1, max: 1000 }),
  };
}

/** Where one fetch's answer is in the operations actually sent. */
interface Part {
  /** Index of the operation sent. */
  sent: number;
  /** For a fetch merged with others: its representations' place in the merged list. */
  slice?: { offset: number; count: number };
}

/**
 * The operations to send for these fetches: entity fetches of the same caller, operation and
 * other variables become one operation over all their representations (in order); anything
 * else is sent as it is. `senders[i]` is the fetch whose caller sent operation i speaks for.
 */
export function coalesceFetches(fetches: readonly SubgraphOperation[], callers: readonly string[] = []): { sent: SubgraphOperation[]; parts: Part[]; senders: number[] } {
  if (fetches.length === 1) return { sent: [fetches[0]], parts: [{ sent: 0 }], senders: [0] };
  const groups = new Map<string, number[]>();
  const order: (string | number)[] = [];
  fetches.forEach((fetch, index) => {
    const { representations, ...rest } = fetch.variables ?? {};
    if (!Array.isArray(representations)) return void order.push(index);
    // The operation text is the same within a lane; variables order follows the plan's, so equal JSON is equal variables.
    const shape = `${callers[index] ?? ''}\n${fetch.operationName ?? ''}\n${fetch.query}\n${JSON.stringify(rest)}`;
    const group = groups.get(shape);
    if (group) return void group.push(index);
    groups.set(shape, [index]);
    order.push(shape);
  });
  const sent: SubgraphOperation[] = [];
  const senders: number[] = [];
  const parts: Part[] = new Array(fetches.length);
  for (const entry of order) {
    const members = typeof entry === 'number' ? [entry] : groups.get(entry)!;
    senders.push(members[0]);
    if (members.length === 1) {
      parts[members[0]] = { sent: sent.push(fetches[members[0]]) - 1 };
      continue;
    }
    const first = fetches[members[0]];
    const representations: unknown[] = [];
    const index = sent.push({ query: first.query, operationName: first.operationName, variables: { ...first.variables, representations } }) - 1;
    for (const member of members) {
      const own = fetches[member].variables!.representations as unknown[];
      parts[member] = { sent: index, slice: { offset: representations.length, count: own.length } };
      for (const representation of own) representations.push(representation);
    }
  }
  return { sent, parts, senders };
}

/** One fetch's answer out of the answers to what was sent. */
export function answerFor(part: Part, answers: readonly SubgraphResult[]): SubgraphResult {
  const answer = answers[part.sent];
  if (!part.slice) return answer;
  const { offset, count } = part.slice;
  const entities = answer.data?._entities;
  const data = Array.isArray(entities) ? { ...answer.data, _entities: entities.slice(offset, offset + count) } : answer.data;
  const errors: SubgraphResultError[] = [];
  for (const error of answer.errors ?? []) {
    const path = error.path;
    if (path?.[0] === '_entities' && typeof path[1] === 'number') {
      // An error on one representation belongs to the fetch that sent it, at its own index.
      if (path[1] >= offset && path[1] < offset + count) errors.push({ ...error, path: ['_entities', path[1] - offset, ...path.slice(2)] });
    } else {
      errors.push(error);
    }
  }
  return { ...(data !== undefined ? { data } : {}), ...(errors.length ? { errors } : {}), ...(answer.extensions ? { extensions: answer.extensions } : {}) };
}

/**
 * Sends the operations as one request and answers each, in order; or throws for all of them.
 * `carriers[i]` came with the fetch operation i is made for (its caller, its trace).
 */
export type SendOperations<TCarrier> = (operations: SubgraphOperation[], carriers: TCarrier[]) => Promise<SubgraphResult[]>;

interface Waiting<TCarrier> {
  fetch: SubgraphOperation;
  carrier: TCarrier;
  resolve(result: SubgraphResult): void;
  reject(error: unknown): void;
}

interface Lane<TCarrier> {
  inFlight: number;
  waiting: Waiting<TCarrier>[];
}

/**
 * Queues fetches by kind and sends them in batches (see the top of this file). `carrier`
 * travels with each fetch to `send`; `callerOf` names the caller it speaks for (entity
 * fetches merge only within one caller).
 */
export class FetchBatcher<TCarrier> {
  private readonly lanes = new Map<string, Lane<TCarrier>>();

  constructor(
    private readonly config: SubgraphBatchingConfig,
    private readonly send: SendOperations<TCarrier>,
    private readonly callerOf: (carrier: TCarrier) => string,
    /** Called with the number of fetches each request carries. */
    private readonly observeBatch: (fetches: number) => void = () => {},
  ) {}

  /** Fetches queued and not yet sent, over all kinds. */
  get waiting(): number {
    let count = 0;
    for (const lane of this.lanes.values()) count += lane.waiting.length;
    return count;
  }

  fetch(kind: string, fetch: SubgraphOperation, carrier: TCarrier): Promise<SubgraphResult> {
    let lane = this.lanes.get(kind);
    if (!lane) this.lanes.set(kind, (lane = { inFlight: 0, waiting: [] }));
    const answer = new Promise<SubgraphResult>((resolve, reject) => lane.waiting.push({ fetch, carrier, resolve, reject }));
    this.drain(kind, lane);
    return answer;
  }

  private drain(kind: string, lane: Lane<TCarrier>): void {
    while (lane.waiting.length && lane.inFlight < Math.max(1, this.config.maxInFlight)) this.dispatch(kind, lane, lane.waiting.splice(0, this.config.maxFetches));
    if (lane.inFlight === 0 && lane.waiting.length === 0) this.lanes.delete(kind);
  }

  private dispatch(kind: string, lane: Lane<TCarrier>, batch: Waiting<TCarrier>[]): void {
    lane.inFlight += 1;
    this.observeBatch(batch.length);
    const { sent, parts, senders } = coalesceFetches(batch.map((w) => w.fetch), batch.length > 1 ? batch.map((w) => this.callerOf(w.carrier)) : []);
    // The lane's slot is freed before the answers are handed out: what waited goes at once.
    const settle = () => {
      lane.inFlight -= 1;
      this.drain(kind, lane);
    };
    this.send(sent, senders.map((index) => batch[index].carrier)).then(
      (answers) => {
        settle();
        batch.forEach((waiting, index) => waiting.resolve(answerFor(parts[index], answers)));
      },
      (error: unknown) => {
        settle();
        for (const waiting of batch) waiting.reject(error);
      },
    );
  }
}
