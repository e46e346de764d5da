import { randomUUID } from 'node:crypto';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { ErrorCode } from '../../runtime/errors';
import type { Identity } from '../../runtime/identity';
import type { Logger } from '../../runtime/logger';
import { resolveEvent, type PrimaryResult } from './event-resolution';
import type { PreparedSubscription } from './planning';
import { authorisationKey, type UpstreamError, type UpstreamSubscriptions } from './upstream';

/** Where one client subscription's events go (a ClientStream). */
export interface EventSink {
  push(result: ExecutionResult): void;
  end(last?: ExecutionResult, error?: GraphQLError): void;
}

/**
 * Clients asking the same document with the same variables under the same authorisation
 * context: each event is resolved once for all of them, and delivered to each in upstream
 * order (resolutions run concurrently, deliveries one after another).
 */
class ResolutionGroup {
  readonly sinks = new Set<EventSink>();
  joinable = true;
  private tail: Promise<void> = Promise.resolve();
  leaveUpstream: () => void = () => {};

  constructor(
    private readonly prepared: PreparedSubscription,
    private readonly identity: Identity,
    private readonly log: Logger,
    private readonly onEmpty: () => void,
  ) {}

  onEvent(event: PrimaryResult): void {
    if (this.prepared.replaysHistory) this.joinable = false;
    const context = { identity: this.identity, requestId: `subscription-${randomUUID()}` };
    const resolution = resolveEvent(this.prepared, event, context, this.log).catch((error: unknown): ExecutionResult => {
      this.log.error({ err: error }, 'resolving a subscription event failed');
      return { errors: [new GraphQLError('could not resolve the event', { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } })] };
    });
    this.tail = this.tail.then(async () => {
      const result = await resolution;
      for (const sink of this.sinks) sink.push(result);
    });
  }

  onEnd(errors?: readonly UpstreamError[]): void {
    this.joinable = false;
    this.onEmpty();
    const error = errors?.length
      ? new GraphQLError(errors[0].message, { extensions: { ...errors[0].extensions, code: errors[0].extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR } })
      : undefined;
    this.tail = this.tail.then(() => {
      for (const sink of this.sinks) sink.end(undefined, error);
      this.sinks.clear();
    });
  }
}

/** Joins client subscriptions to shared upstream subscriptions through resolution groups. */
export class SubscriptionFanOut {
  private readonly groups = new Map<string, ResolutionGroup>();

  constructor(
    private readonly upstreams: UpstreamSubscriptions,
    private readonly log: Logger,
  ) {}

  /** Client subscriptions being served right now. */
  get clientCount(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.sinks.size;
    return count;
  }

  /** Starts delivering `prepared`'s events to `sink`; returns how to stop. */
  join(prepared: PreparedSubscription, identity: Identity, sink: EventSink): () => void {
    const authKey = authorisationKey(identity);
    const key = JSON.stringify([prepared.subgraph, authKey, prepared.upstreamQuery, prepared.operationName ?? null, prepared.documentText, prepared.variables]);
    let group = this.groups.get(key);
    if (!group?.joinable) {
      const created = new ResolutionGroup(prepared, identity, this.log, () => {
        if (this.groups.get(key) === created) this.groups.delete(key);
      });
      const url = prepared.snapshot.dataSource(prepared.subgraph)?.url;
      if (!url) throw new GraphQLError(`subgraph ${prepared.subgraph} is not available`, { extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } });
      created.leaveUpstream = this.upstreams.subscribe(
        { url, query: prepared.upstreamQuery, identity, authorisationKey: authKey, replaysHistory: prepared.replaysHistory },
        { next: (event) => created.onEvent(event), error: (errors) => created.onEnd(errors), complete: () => created.onEnd() },
      );
      this.groups.set(key, created);
      group = created;
    }
    const joined = group;
    // The group resolves each event once for all; each client's own authorization restores it for that client.
    const { restore } = prepared;
    const delivered: EventSink = restore ? { push: (result) => sink.push(restore(result)), end: (last, error) => sink.end(last && restore(last), error) } : sink;
    joined.sinks.add(delivered);
    return () => {
      if (!joined.sinks.delete(delivered)) return;
      if (joined.sinks.size === 0) {
        if (this.groups.get(key) === joined) this.groups.delete(key);
        joined.joinable = false;
        joined.leaveUpstream();
      }
    };
  }
}
