import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { ErrorCode } from '../../runtime/errors';
import { isAuthenticated, type Identity } from '../../runtime/identity';
import type { Logger } from '../../runtime/logger';
import type { IdentityVerifier } from '../auth';
import { ClientStream } from './client-stream';
import { SubscriptionCloseCode, SubscriptionCloseReason, SubscriptionEndCode } from './codes';
import type { SubscriptionConfig } from './config';
import type { SubscriptionFanOut } from './fan-out';
import type { FederatedGraph } from './graph';
import { slowConsumerCloses } from './metrics';
import { prepareSubscription, type DocumentLimits } from './planning';

/** What the protocol needs of a client's transport: close it, and see how much it has not sent. */
export interface ClientSocket {
  close(code: number, reason: string): void;
  /** Bytes queued for the client and not yet handed to the network. */
  readonly bufferedAmount: number;
}

/** Connections already closed with SlowConsumer. */
const closedAsSlow = new WeakSet<ClientSocket>();

/** One client connection after `connection_init`: who it is and what it subscribes to. */
interface ConnectionSession {
  identity: Identity;
  readonly streams: Map<string, ClientStream>;
  /** From connection_init's `apollographql-client-name` (or `clientName`), for usage reporting. */
  readonly clientName?: string;
}

/** A subscription accepted for a client: what usage reporting records. */
export interface ObservedOperation {
  schema: GraphQLSchema;
  /** Identifies the document (its printed text). */
  documentKey: string;
  document: DocumentNode;
  operationName?: string;
  clientName?: string;
}

// A type, not an interface: graphql-ws wants connection extras indexable.
export type ConnectionExtra = {
  readonly socket: ClientSocket;
  session?: ConnectionSession;
};

/** The execution arguments' context: the stream prepared in onSubscribe, handed to subscribe. */
interface PreparedContext {
  readonly stream: ClientStream;
}

export interface SubscriptionProtocolOptions {
  graph: FederatedGraph;
  verifyIdentity: IdentityVerifier;
  fanOut: SubscriptionFanOut;
  config: SubscriptionConfig;
  log: Logger;
  /** How errors leave the gateway (the HTTP path's formatter, so both mask alike). */
  formatError?: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** The HTTP path's request limits (token count, depth, aliases, cost), applied alike here. */
  limits?: DocumentLimits;
  /** Called for each accepted subscription (schema usage reporting). */
  onOperation?: (operation: ObservedOperation) => void;
}

function connectionAuthorization(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The subscription protocol over graphql-ws: authenticates `connection_init`, validates
 * and plans each `subscribe`, enforces the per-connection limit and the per-client buffer,
 * and completes everything on shutdown. Transport-free: the ws adapter plugs it in.
 */
export class SubscriptionProtocol {
  private readonly sessions = new Set<ConnectionExtra>();
  private shuttingDown = false;

  constructor(private readonly options: SubscriptionProtocolOptions) {}

  /** Client subscriptions open now, over all connections. */
  get subscriptionCount(): number {
    let count = 0;
    for (const extra of this.sessions) count += extra.session?.streams.size ?? 0;
    return count;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  serverOptions(): ServerOptions<Record<string, unknown>, ConnectionExtra> {
    const { config, formatError } = this.options;
    const format = (error: GraphQLError): GraphQLFormattedError => (formatError ? formatError(error.toJSON(), error) : error.toJSON());
    return {
      connectionInitWaitTimeout: config.connectionInitTimeoutMs,
      onConnect: (ctx) => this.authenticate(ctx.extra, ctx.connectionParams),
      onSubscribe: (ctx, id, payload) => this.prepare(ctx.extra, id, payload),
      subscribe: (args) => (args.contextValue as PreparedContext).stream,
      onNext: formatError
        ? (_ctx, _id, _payload, _args, result) => ({ ...result, errors: result.errors?.map((e) => format(e as GraphQLError)) }) as never
        : undefined,
      onError: formatError ? (_ctx, _id, _payload, errors) => errors.map(format) : undefined,
      onClose: (ctx) => {
        this.sessions.delete(ctx.extra);
        for (const stream of ctx.extra.session?.streams.values() ?? []) void stream.return();
      },
    };
  }

  private async authenticate(extra: ConnectionExtra, params: Readonly<Record<string, unknown>> | undefined): Promise<boolean> {
    if (this.shuttingDown) {
      extra.socket.close(SubscriptionCloseCode.GoingAway, SubscriptionCloseReason.GoingAway);
      return false;
    }
    const authorization = connectionAuthorization(params);
    let identity: Identity;
    try {
      identity = await this.options.verifyIdentity(authorization);
    } catch {
      extra.socket.close(SubscriptionCloseCode.InvalidToken, SubscriptionCloseReason.InvalidToken);
      return false;
    }
    if (!isAuthenticated(identity)) {
      extra.socket.close(SubscriptionCloseCode.AuthenticationRequired, SubscriptionCloseReason.AuthenticationRequired);
      return false;
    }
    const clientName = params?.['apollographql-client-name'] ?? params?.clientName;
    extra.session = { identity, streams: new Map(), clientName: typeof clientName === 'string' ? clientName : undefined };
    this.sessions.add(extra);
    return true;
  }

  private prepare(
    extra: ConnectionExtra,
    id: string,
    payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  ) {
    const session = extra.session;
    if (!session) return [new GraphQLError('connection not initialised', { extensions: { code: ErrorCode.UNAUTHENTICATED } })];
    if (this.shuttingDown) return [new GraphQLError('the gateway is shutting down', { extensions: { code: SubscriptionEndCode.SHUTTING_DOWN } })];
    const { config, graph, fanOut, log } = this.options;
    if (session.streams.size >= config.maxSubscriptionsPerConnection) {
      return [new GraphQLError(`at most ${config.maxSubscriptionsPerConnection} subscriptions per connection`, { extensions: { code: ErrorCode.LIMIT_EXCEEDED } })];
    }
    const snapshot = graph.current();
    let prepared;
    try {
      prepared = prepareSubscription(snapshot, payload, this.options.limits);
    } catch (error) {
      log.warn({ err: error }, 'could not plan a subscription');
      return [new GraphQLError('could not plan the subscription', { extensions: { code: ErrorCode.OPERATION_NOT_ALLOWED } })];
    }
    if (Array.isArray(prepared)) return prepared;

    let leave: () => void = () => {};
    const slow = () => {
      if (closedAsSlow.has(extra.socket)) return; // each of its subscriptions may find it slow: close and count once
      closedAsSlow.add(extra.socket);
      slowConsumerCloses.inc();
      extra.socket.close(SubscriptionCloseCode.SlowConsumer, SubscriptionCloseReason.SlowConsumer);
    };
    const stream = new ClientStream(config.clientBufferEvents, slow, () => {
      if (session.streams.get(id) === stream) session.streams.delete(id);
      leave();
    });
    try {
      leave = fanOut.join(prepared, session.identity, {
        push: (result: ExecutionResult) => {
          if (extra.socket.bufferedAmount > config.clientBufferBytes) slow();
          else stream.push(result);
        },
        end: (last, error) => stream.end(last, error),
      });
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    session.streams.set(id, stream);
    this.options.onOperation?.({ schema: snapshot.apiSchema, documentKey: prepared.documentText, document: prepared.document, operationName: prepared.operationName, clientName: session.clientName });
    return {
      schema: snapshot.apiSchema,
      document: prepared.document,
      operationName: prepared.operationName,
      variableValues: prepared.variables,
      contextValue: { stream } satisfies PreparedContext,
    };
  }

  /**
   * Completes every subscription with a last `next` saying why (SHUTTING_DOWN) and waits,
   * up to `graceMs`, until each client has been handed everything queued for it.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.shuttingDown = true;
    const reason = new GraphQLError(SubscriptionCloseReason.GoingAway, { extensions: { code: SubscriptionEndCode.SHUTTING_DOWN } });
    const finished: Promise<void>[] = [];
    for (const extra of this.sessions) {
      for (const stream of extra.session?.streams.values() ?? []) {
        stream.end({ errors: [reason] });
        finished.push(stream.finished);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(finished), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }
}
