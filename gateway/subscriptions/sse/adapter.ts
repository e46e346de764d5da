import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../../../runtime/errors';
import { EventStreamRefusalStatus, SubscriptionEndCode } from '../codes';
import type { ConnectionExtra, ConnectionRefusal, SubscriptionProtocol } from '../protocol';
import { EventStream } from './event-stream';
import { operationRequest, readEventStreamRequest, type EventStreamRequest } from './request';
import { resumeFrom } from './resume';

/** A distinct connection's one operation, as its ClientStream is keyed in the session. */
const DISTINCT_OPERATION = '';

/** The refusals in HTTP's words (the graphql-ws close reasons speak of connection_init). */
const REFUSAL_MESSAGE: Record<ConnectionRefusal, string> = {
  InvalidToken: 'Unauthorized: invalid or expired token',
  AuthenticationRequired: 'Unauthorized: send Authorization: Bearer <JWT>',
  GoingAway: 'Gateway shutting down; reconnect and resume with the last cursor',
};

export interface EventStreamTransportOptions {
  keepAliveMs: number;
  /** How long a reservation (PUT) waits for its stream (GET) before it is dropped. */
  reservationTimeoutMs: number;
}

/** One single-connection reservation: its stream (opened by a later GET) and its connection. */
interface Reservation {
  readonly stream: EventStream;
  readonly connection: ConnectionExtra;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
}

function refuse(res: ServerResponse, refusal: ConnectionRefusal): void {
  const code = refusal === 'GoingAway' ? SubscriptionEndCode.SHUTTING_DOWN : ErrorCode.UNAUTHENTICATED;
  const headers: Record<string, string> = refusal === 'GoingAway' ? {} : { 'www-authenticate': 'Bearer' };
  sendJson(res, EventStreamRefusalStatus[refusal], { errors: [{ message: REFUSAL_MESSAGE[refusal], extensions: { code } }] }, headers);
}

/**
 * The graphql-sse protocol (PROTOCOL.md in graphql-sse) on the gateway's `/graphql/stream`:
 * distinct connections (a GET or POST accepting `text/event-stream`, one stream per
 * operation) and the single connection mode (PUT reserves a stream, GET opens it, POSTs start
 * operations on it, DELETE stops one). Every operation goes through the same protocol as
 * graphql-ws: `admit` (the Authorization header), `prepare` (limits, planning, the shared
 * upstream), the bounded ClientStream, shutdown.
 *
 * Written by hand rather than with graphql-sse's `createHandler`: that handler prints its own
 * messages (no SSE `id:`, so no Last-Event-ID resume), drains every operation into an unbounded
 * queue of its own (which would defeat the slow-consumer bound), pings at a fixed 12 s, and
 * keeps its streams out of reach (nothing could end them on shutdown). The protocol's
 * constants come from graphql-sse, and its client is what the tests speak.
 */
export function serveOverEventStream(protocol: SubscriptionProtocol, options: EventStreamTransportOptions) {
  const streams = new Set<EventStream>();
  const reservations = new Map<string, Reservation>();
  const newStream = (eventIds: boolean) => new EventStream({ keepAliveMs: options.keepAliveMs, eventIds, formatError: (e: GraphQLError) => protocol.formatError(e) });

  /** An admitted connection's stream: released from the protocol when it ends. */
  function track(stream: EventStream, connection: ConnectionExtra): void {
    streams.add(stream);
    stream.whenEnded(() => {
      streams.delete(stream);
      protocol.release(connection);
    });
  }

  /** A request's operation, resumed from its Last-Event-ID when it sends one. */
  function operationOf(request: EventStreamRequest, body: unknown) {
    const operation = operationRequest(request, body);
    if ('invalid' in operation || !request.lastEventId) return operation;
    return resumeFrom(operation, request.lastEventId);
  }

  async function serveDistinct(request: EventStreamRequest, res: ServerResponse, body: unknown): Promise<void> {
    const operation = operationOf(request, body);
    if ('invalid' in operation) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, operation.invalid);
    const stream = newStream(true);
    const connection: ConnectionExtra = { socket: stream };
    const refusal = await protocol.admit(connection, request.credentials);
    if (refusal) return refuse(res, refusal);
    track(stream, connection);
    stream.open(res);
    if (stream.ended) return;
    const accepted = protocol.prepare(connection, DISTINCT_OPERATION, operation);
    // Refusals after the stream is accepted are `next` events, as the protocol asks.
    if (Array.isArray(accepted)) return stream.refuse(undefined, accepted).then(() => stream.end());
    stream.deliver(undefined, accepted.stream, () => stream.end());
  }

  async function reserve(request: EventStreamRequest, res: ServerResponse): Promise<void> {
    const stream = newStream(false);
    const connection: ConnectionExtra = { socket: stream };
    const refusal = await protocol.admit(connection, request.credentials);
    if (refusal) return refuse(res, refusal);
    const token = randomUUID();
    reservations.set(token, { stream, connection });
    track(stream, connection);
    const expiry = setTimeout(() => stream.isOpen || stream.end(), options.reservationTimeoutMs).unref();
    stream.whenEnded(() => {
      clearTimeout(expiry);
      reservations.delete(token);
    });
    res.writeHead(201, { 'content-type': 'text/plain; charset=utf-8' }).end(token);
  }

  /** An operation on a reserved stream: by the identity that reserved it, answered 202, its results on the stream. */
  async function startOperation(reservation: Reservation, request: EventStreamRequest, res: ServerResponse, body: unknown): Promise<void> {
    const identity = await protocol.identify(request.credentials);
    if (typeof identity === 'string') return refuse(res, identity);
    const session = reservation.connection.session;
    if (!session || reservation.stream.ended) return sendError(res, 404, ErrorCode.NOT_FOUND, 'the event stream has ended');
    if (identity.subject !== session.identity.subject) return sendError(res, 403, ErrorCode.FORBIDDEN, 'the event stream was reserved by another identity');
    const operation = operationOf(request, body);
    if ('invalid' in operation) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, operation.invalid);
    const operationId = operation.extensions?.operationId;
    if (typeof operationId !== 'string' || operationId === '') return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'extensions.operationId is missing');
    if (session.streams.has(operationId)) return sendError(res, 409, ErrorCode.BAD_USER_INPUT, `operation ${operationId} is already running`);
    const accepted = protocol.prepare(reservation.connection, operationId, operation);
    if (Array.isArray(accepted)) {
      // Before acceptance, request problems are answered as GraphQL over HTTP does.
      const errors: GraphQLFormattedError[] = accepted.map((e) => protocol.formatError(e));
      return sendJson(res, errors.some((e) => e.extensions?.code === SubscriptionEndCode.SHUTTING_DOWN) ? 503 : 400, { errors });
    }
    reservation.stream.deliver(operationId, accepted.stream);
    res.writeHead(202).end();
  }

  function stopOperation(reservation: Reservation, request: EventStreamRequest, res: ServerResponse): void {
    const operationId = request.url.searchParams.get('operationId');
    if (!operationId) return sendError(res, 400, ErrorCode.BAD_USER_INPUT, 'operationId is missing');
    void reservation.connection.session?.streams.get(operationId)?.return();
    res.writeHead(200).end();
  }

  async function serveReserved(reservation: Reservation | undefined, request: EventStreamRequest, res: ServerResponse, body: unknown): Promise<void> {
    if (!reservation) return sendError(res, 404, ErrorCode.NOT_FOUND, 'no such event stream: reserve one with PUT');
    if (request.method === 'GET' && request.wantsStream) {
      if (reservation.stream.isOpen) return sendError(res, 409, ErrorCode.BAD_USER_INPUT, 'the event stream is already open');
      return reservation.stream.open(res);
    }
    if (request.method === 'POST') return startOperation(reservation, request, res, body);
    if (request.method === 'DELETE') return stopOperation(reservation, request, res);
    res.writeHead(405, { allow: 'GET, POST, PUT, DELETE' }).end();
  }

  return {
    /** Serves one request; `body` is its JSON body, parsed by the HTTP server, if any. */
    async handle(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
      const request = readEventStreamRequest(req);
      if (request.method === 'PUT') return reserve(request, res);
      if (request.streamToken) return serveReserved(reservations.get(request.streamToken), request, res, body);
      if (request.wantsStream && (request.method === 'GET' || request.method === 'POST')) return serveDistinct(request, res, body);
      if (request.method !== 'GET' && request.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST, PUT, DELETE' }).end();
      sendError(res, 406, ErrorCode.BAD_USER_INPUT, 'send Accept: text/event-stream (one stream per operation), or reserve a stream with PUT');
    },
    /** Ends every stream (their subscriptions were completed first) and drops every reservation. */
    close(): void {
      for (const stream of [...streams]) stream.end();
    },
  };
}

export type EventStreamTransport = ReturnType<typeof serveOverEventStream>;
