import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLResponse } from '@apollo/server';
import { ErrorCode } from './errors';
import { startIncomingRequest } from './observability';

/**
 * The HTTP front of a GraphQL server (the gateway and every subgraph): JSON POSTs to the
 * GraphQL path go straight from node:http to Apollo Server; everything else (GET queries,
 * other content types, /healthz, /metrics, the console) goes to the express app.
 *
 * The express route did the same work through a router, body-parser and the express
 * integration: a fifth to a quarter of each process's CPU on a simple request in the
 * benchmark's profiles. This front reads the body once, gives it to the caller's checks
 * (the raw bytes for a signature, the parsed body for limits), and hands Apollo the request.
 */

/** A request refused before Apollo sees it. */
export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
}

export interface GraphQLHttpOptions<TContext extends BaseContext, TAdmitted> {
  apollo: ApolloServer<TContext>;
  /** Where GraphQL is served, e.g. `/graphql`. */
  path: string;
  maxBodyBytes: number;
  /** Checks the request (raw body and parsed body) before Apollo runs it: a Refusal, or what the context needs. */
  admit(req: IncomingMessage, raw: Buffer, body: unknown): { refused: Refusal } | { admitted: TAdmitted };
  /** The GraphQL context (may throw a GraphQLError with `extensions.http.status`, as Apollo expects). */
  context(req: IncomingMessage, admitted: TAdmitted, requestId: string): Promise<TContext>;
  /** Answers the request without Apollo Server when it can (the gateway's fast lane): an uncacheable JSON body, or undefined. */
  shortcut?(req: IncomingMessage, body: unknown, context: () => Promise<TContext>): Promise<string | undefined>;
  /** Serves everything this front does not. */
  fallback: RequestListener;
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(graphql-response\+)?json\b/i.test(contentType.trimStart());
}

function sendError(res: ServerResponse, { status, code, message }: Refusal): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** The body, or a Refusal once it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | Refusal> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.resolve({ status: 413, code: ErrorCode.LIMIT_EXCEEDED, message: 'request body too large' });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? { status: 413, code: ErrorCode.LIMIT_EXCEEDED, message: 'request body too large' } : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerMap(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return headers;
}

async function writeResponse(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

export function graphqlHttpFront<TContext extends BaseContext, TAdmitted>(options: GraphQLHttpOptions<TContext, TAdmitted>): RequestListener {
  const { apollo, path, maxBodyBytes, admit, context, shortcut, fallback } = options;
  return (req, res) => {
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const pathname = query === -1 ? url : url.slice(0, query);
    if (req.method !== 'POST' || pathname !== path || !isJson(req.headers['content-type'])) return fallback(req, res);

    const traced = startIncomingRequest(req, res, `POST ${path}`);
    const { requestId } = traced.context;
    traced.run(async () => {
      try {
        const raw = await readBody(req, maxBodyBytes);
        if (!Buffer.isBuffer(raw)) return sendError(res, raw);
        let body: unknown;
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return sendError(res, { status: 400, code: ErrorCode.BAD_USER_INPUT, message: 'malformed request' });
        }
        const admission = admit(req, raw, body);
        if ('refused' in admission) return sendError(res, admission.refused);
        // One context per request, whoever asks first: a shortcut that declines hands it on.
        let made: Promise<TContext> | undefined;
        const contextOnce = () => (made ??= context(req, admission.admitted, requestId));
        const answered = shortcut ? await shortcut(req, body, contextOnce) : undefined;
        if (answered !== undefined) {
          // The head Apollo Server writes for a result no cache may keep (payment data is never cacheable).
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(answered) }).end(answered);
          return;
        }
        const response = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: 'POST', headers: headerMap(req), search: query === -1 ? '' : url.slice(query), body },
          context: contextOnce,
        });
        await writeResponse(res, response);
      } catch {
        sendError(res, { status: 500, code: ErrorCode.INTERNAL_SERVER_ERROR, message: 'internal error' });
      }
    });
  };
}
