import { GraphQLError, print, type DocumentNode, type ExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
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
import type { Authorizer } from '../authorization/authorizer';
import { subscriptionAuthorization } from '../authorization/subscriptions';

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

/**
 * One client connection, whatever its transport (a graphql-ws socket, an SSE stream): its
 * socket and, once admitted, its session. A type, not an interface: graphql-ws wants
 * connection extras indexable.
 */
export type ConnectionExtra = {
  readonly socket: ClientSocket;
  session?: ConnectionSession;
};

/** The execution arguments' context: the stream prepared in onSubscribe, handed to subscribe. */
interface PreparedContext {
  readonly stream: ClientStream;
}

/** Why a client may not subscribe at all; each transport says so its own way (a close code, an HTTP status). */
export type ConnectionRefusal = 'InvalidToken' | 'AuthenticationRequired' | 'GoingAway';

/** What a client's transport says about it when it connects. */
export interface ConnectionCredentials {
  /** `Bearer <JWT>`: connection_init's `authorization`, or an HTTP Authorization header. */
  authorization?: string;
  /** For usage reporting (`apollographql-client-name`). */
  clientName?: string;
}

/** A subscription accepted for a client: its events, and the graph it was planned on. */
export interface AcceptedSubscription {
  readonly stream: ClientStream;
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operationName?: string;
  readonly variables: Record<string, unknown>;
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
  /** The HTTP path's authorization check (gateway/authorization), made at subscribe. */
  authorizer?: Authorizer;
}

function connectionAuthorization(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' ? value : undefined;
}

/**
 * The subscription protocol, whatever the transport: admits a connection by its token
 * (`admit`), validates, plans and joins each subscription to the shared upstream (`prepare`),
 * enforces the per-connection limit and the per-client buffer, and completes everything on
 * shutdown. `serverOptions` plugs it into graphql-ws; the SSE adapter calls the same methods.
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

  /** An error as it leaves the gateway (the HTTP path's formatter: both mask alike). */
  formatError(error: GraphQLError): GraphQLFormattedError {
    const { formatError } = this.options;
    return formatError ? formatError(error.toJSON(), error) : error.toJSON();
  }

  serverOptions(): ServerOptions<Record<string, unknown>, ConnectionExtra> {
    const { config, formatError } = this.options;
    const format = (error: GraphQLError): GraphQLFormattedError => this.formatError(error);
    return {
      connectionInitWaitTimeout: config.connectionInitTimeoutMs,
      onConnect: async (ctx) => {
        const clientName = ctx.connectionParams?.['apollographql-client-name'] ?? ctx.connectionParams?.clientName;
        const refusal = await this.admit(ctx.extra, { authorization: connectionAuthorization(ctx.connectionParams), clientName: typeof clientName === 'string' ? clientName : undefined });
        if (!refusal) return true;
        ctx.extra.socket.close(SubscriptionCloseCode[refusal], SubscriptionCloseReason[refusal]);
        return false;
      },
      onSubscribe: (ctx, id, payload) => {
        const accepted = this.prepare(ctx.extra, id, payload);
        if (Array.isArray(accepted)) return accepted;
        const contextValue: PreparedContext = { stream: accepted.stream };
        return { schema: accepted.schema, document: accepted.document, operationName: accepted.operationName, variableValues: accepted.variables, contextValue };
      },
      subscribe: (args) => (args.contextValue as PreparedContext).stream,
      onNext: formatError
        ? (_ctx, _id, _payload, _args, result) => ({ ...result, errors: result.errors?.map((e) => format(e as GraphQLError)) }) as never
        : undefined,
      onError: formatError ? (_ctx, _id, _payload, errors) => errors.map(format) : undefined,
      onClose: (ctx) => this.release(ctx.extra),
    };
  }

  /**
   * Verifies who a connecting client is (the same check for every transport) and opens its
   * session; returns why not when it may not subscribe.
   */
  async admit(extra: ConnectionExtra, credentials: ConnectionCredentials): Promise<ConnectionRefusal | undefined> {
    const identity = await this.identify(credentials);
    if (typeof identity === 'string') return identity;
    extra.session = { identity, streams: new Map(), clientName: credentials.clientName };
    this.sessions.add(extra);
    return undefined;
  }

  /** The verified identity of a client's token, or why it has none that may subscribe. */
  async identify(credentials: ConnectionCredentials): Promise<Identity | ConnectionRefusal> {
    if (this.shuttingDown) return 'GoingAway';
    let identity: Identity;
    try {
      identity = await this.options.verifyIdentity(credentials.authorization);
    } catch {
      return 'InvalidToken';
    }
    return isAuthenticated(identity) ? identity : 'AuthenticationRequired';
  }

  /** The connection is gone: stops its subscriptions and forgets it. */
  release(extra: ConnectionExtra): void {
    this.sessions.delete(extra);
    for (const stream of extra.session?.streams.values() ?? []) void stream.return();
  }

  /**
   * One subscription of an admitted connection, transport-independent: the limits, validation
   * and planning, the join to the shared upstream, and the bounded stream of its results.
   * Returns the errors to send back when it may not run.
   */
  prepare(
    extra: ConnectionExtra,
    id: string,
    payload: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  ): AcceptedSubscription | GraphQLError[] {
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
      const { authorizer } = this.options;
      prepared = prepareSubscription(snapshot, payload, this.options.limits, authorizer && subscriptionAuthorization(authorizer, session.identity));
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
    this.options.onOperation?.({
      schema: snapshot.apiSchema,
      documentKey: prepared.requestedDocument === prepared.document ? prepared.documentText : print(prepared.requestedDocument),
      document: prepared.requestedDocument,
      operationName: prepared.operationName,
      clientName: session.clientName,
    });
    return { stream, schema: snapshot.apiSchema, document: prepared.document, operationName: prepared.operationName, variables: prepared.variables };
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
