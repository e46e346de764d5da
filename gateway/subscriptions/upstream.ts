import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ErrorCode } from '../../runtime/errors';
import type { Identity } from '../../runtime/identity';
import type { Logger } from '../../runtime/logger';
import { signRequest } from '../../runtime/signing';
import type { PrimaryResult } from './event-resolution';

/** One subscription to run on a subgraph, and who it runs for. */
export interface UpstreamRequest {
  /** The subgraph's HTTP GraphQL URL (its graphql-ws endpoint is the same path). */
  url: string;
  query: string;
  /** Signed into connection_init so the subgraph authorises as it does for queries. */
  identity: Identity;
  /** Identities with equal keys see the same data: they may share one upstream subscription. */
  authorisationKey: string;
  /** An upstream that replays history may be joined only before its first event. */
  replaysHistory: boolean;
}

/** What an upstream subscription reports to each party sharing it. */
export interface UpstreamListener {
  next(event: PrimaryResult): void;
  /** The subgraph refused or ended the subscription with errors (e.g. FORBIDDEN). */
  error(errors: readonly UpstreamError[]): void;
  complete(): void;
}

export interface UpstreamError {
  message: string;
  extensions?: Record<string, unknown>;
}

interface SharedUpstream {
  readonly key: string;
  readonly listeners: Set<UpstreamListener>;
  joinable: boolean;
  dispose(): void;
}

/** The key that identifies an identity's authorisation context: what it may see, not who it is. */
export function authorisationKey(identity: Identity): string {
  return JSON.stringify([identity.customerId ?? null, [...identity.scopes].sort(), identity.internal === true]);
}

export function webSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

export interface UpstreamOptions {
  signingSecret: string;
  /** How long an idle connection to a subgraph stays open after its last subscription. */
  idleMs: number;
  log: Logger;
}

/**
 * Subscriptions on the subgraphs that own root fields, over graphql-ws. One upstream
 * subscription serves every party asking for the same root field, arguments and selection
 * under the same authorisation context; it is ref-counted and closed when the last one
 * leaves. Connections are one per (subgraph, authorisation context), multiplexed, and signed
 * with the identity the way HTTP requests to subgraphs are.
 */
export class UpstreamSubscriptions {
  private readonly joinable = new Map<string, SharedUpstream>();
  private readonly running = new Set<SharedUpstream>();
  private readonly connections = new Map<string, Client>();
  private openedTotal = 0;
  private closed = false;

  constructor(private readonly options: UpstreamOptions) {}

  /** Upstream subscriptions open right now. */
  get active(): number {
    return this.running.size;
  }

  /** Upstream subscriptions opened since start. */
  get opened(): number {
    return this.openedTotal;
  }

  /** Subscribes `listener`, sharing an upstream when one fits; returns how to leave. */
  subscribe(request: UpstreamRequest, listener: UpstreamListener): () => void {
    if (this.closed) throw new Error('upstream subscriptions are closed');
    const key = JSON.stringify([request.url, request.authorisationKey, request.query]);
    let upstream = this.joinable.get(key);
    if (!upstream) upstream = this.open(key, request);
    upstream.listeners.add(listener);
    const shared = upstream;
    return () => {
      if (!shared.listeners.delete(listener)) return;
      if (shared.listeners.size === 0) this.release(shared);
    };
  }

  private open(key: string, request: UpstreamRequest): SharedUpstream {
    const listeners = new Set<UpstreamListener>();
    let settled = false;
    const upstream: SharedUpstream = { key, listeners, joinable: true, dispose: () => {} };
    const finish = (report: (listener: UpstreamListener) => void) => {
      if (settled) return;
      settled = true;
      this.release(upstream);
      for (const listener of [...listeners]) report(listener);
      listeners.clear();
    };
    const client = this.connection(request);
    upstream.dispose = client.subscribe<Record<string, unknown>>(
      { query: request.query },
      {
        next: (result) => {
          if (settled) return;
          if (request.replaysHistory && upstream.joinable) this.stopSharing(upstream);
          // A result without data is how graphql-ws reports a subscribe resolver that threw.
          if (result.data == null && result.errors?.length) {
            finish((l) => l.error(result.errors as UpstreamError[]));
            return;
          }
          for (const listener of [...listeners]) listener.next(result as PrimaryResult);
        },
        error: (failure) => finish((l) => l.error(upstreamErrors(failure))),
        complete: () => finish((l) => l.complete()),
      },
    );
    this.joinable.set(key, upstream);
    this.running.add(upstream);
    this.openedTotal += 1;
    this.options.log.debug({ url: request.url, active: this.running.size }, 'upstream subscription opened');
    return upstream;
  }

  private stopSharing(upstream: SharedUpstream): void {
    upstream.joinable = false;
    if (this.joinable.get(upstream.key) === upstream) this.joinable.delete(upstream.key);
  }

  private release(upstream: SharedUpstream): void {
    if (!this.running.delete(upstream)) return;
    this.stopSharing(upstream);
    upstream.dispose();
  }

  private connection(request: UpstreamRequest): Client {
    const key = JSON.stringify([request.url, request.authorisationKey]);
    const existing = this.connections.get(key);
    if (existing) return existing;
    const path = new URL(request.url).pathname;
    const { signingSecret, idleMs, log } = this.options;
    const client = createClient({
      url: webSocketUrl(request.url),
      webSocketImpl: WebSocket,
      lazy: true,
      lazyCloseTimeout: idleMs,
      // Signed at every (re)connect: the signature carries a timestamp checked against a window.
      connectionParams: () => signRequest(signingSecret, { method: 'WS', path, body: '', identity: request.identity }),
      // A lost upstream ends its subscriptions with SUBGRAPH_UNAVAILABLE rather than
      // resubscribing silently: clients resume from their last cursor, with no gap or duplicate.
      retryAttempts: 0,
      keepAlive: 10_000,
      on: {
        closed: () => {
          if (this.connections.get(key) === client) this.connections.delete(key);
        },
        error: (err) => log.warn({ err, url: request.url }, 'upstream connection error'),
      },
    });
    this.connections.set(key, client);
    return client;
  }

  /** Ends every upstream subscription and connection. */
  async close(): Promise<void> {
    this.closed = true;
    for (const upstream of [...this.running]) this.release(upstream);
    await Promise.all([...this.connections.values()].map((client) => client.dispose()));
    this.connections.clear();
  }
}

function upstreamErrors(failure: unknown): UpstreamError[] {
  if (Array.isArray(failure) && failure.every((e) => typeof e?.message === 'string')) return failure as UpstreamError[];
  const reason = failure instanceof Error ? failure.message : typeof (failure as { reason?: unknown })?.reason === 'string' ? (failure as { reason: string }).reason : '';
  return [{ message: `the subgraph's subscription stream was lost${reason ? `: ${reason}` : ''}`, extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE } }];
}
