import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import type { NextFunction, Request, Response } from 'express';
import { Lexer, Source, TokenKind, GraphQLError } from 'graphql';
import { ErrorCode, PaygraphError } from '../runtime/errors';
import { LRUCache } from 'lru-cache';
import type { Refusal } from '../runtime/graphql-http';

/**
 * Request limits (defaults after graphql-armor's, adjusted to our graph).
 * Depth 6 is graphql-armor's default and too low here: `customer → accounts → payments → edges
 * → node → source → customer → kyc → tier` is a legitimate depth of 9, so we allow 12.
 */
export interface RequestLimits {
  /** Deepest selection allowed. Env MAX_DEPTH, default 12. */
  maxDepth: number;
  /** Aliases per operation. Env MAX_ALIASES, default 15 (graphql-armor's). */
  maxAliases: number;
  /** Lexical tokens per document. Env MAX_TOKENS, default 1000 (armor's). */
  maxTokens: number;
  /** Directives per operation. Env MAX_DIRECTIVES, default 50 (armor's). */
  maxDirectives: number;
}

// The cost limit (MAX_COST) is demand control's, from the schema's @cost and @listSize: gateway/demand-control.
export const DEFAULT_LIMITS: RequestLimits = { maxDepth: 12, maxAliases: 15, maxTokens: 1000, maxDirectives: 50 };

function operationNotAllowed(message: string): PaygraphError {
  return new PaygraphError(ErrorCode.OPERATION_NOT_ALLOWED, message.replace(/^Syntax Error: /, ''));
}

/** graphql-armor's validation rules, reporting OPERATION_NOT_ALLOWED instead of throwing. */
export function armorValidation(limits: RequestLimits, production: boolean) {
  const reject: GraphQLArmorRejectCallback[] = [(context, error) => context?.reportError(operationNotAllowed(error.message))];
  const callbacks = { onReject: reject, propagateOnRejection: false };
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, ...callbacks },
    maxAliases: { n: limits.maxAliases, ...callbacks },
    // Cost is demand control's (gateway/demand-control), which reads the schema's @cost and @listSize.
    costLimit: { enabled: false },
    maxDirectives: { n: limits.maxDirectives, ...callbacks },
    // Counted before parsing by `limitRequest`, where a huge document costs nothing.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  }).protect();
}

function reply(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/** Counts lexical tokens with graphql-js's own lexer and stops as soon as the limit is passed. */
export function exceedsTokenLimit(query: string, maxTokens: number): boolean {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++count > maxTokens) return true;
    }
  } catch (error) {
    if (error instanceof GraphQLError) return false; // a syntax error: the parser reports it properly
    throw error;
  }
  return false;
}

/**
 * Trusted documents: when a manifest (JSON object of sha256 hash → document) is configured,
 * only operations from it run. Clients send `extensions.persistedQuery.sha256Hash` or
 * `documentId`; a free-form query is OPERATION_NOT_ALLOWED.
 */
export function loadTrustedDocuments(path: string | undefined): Map<string, string> | undefined {
  if (!path) return undefined;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
  const documents = new Map<string, string>();
  for (const [hash, document] of Object.entries(manifest)) {
    const actual = createHash('sha256').update(document).digest('hex');
    if (actual !== hash.replace(/^sha256:/, '')) throw new Error(`trusted document ${hash} does not match its hash`);
    documents.set(actual, document);
  }
  return documents;
}

/**
 * The checks that run before Apollo sees a request: shape of the body, one operation per
 * request (no batching), token count, and trusted documents.
 */
export function limitRequest(limits: RequestLimits, trusted: Map<string, string> | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST') return next(); // GET is for queries only; Apollo refuses GET mutations
    const refused = checkRequestBody(limits, trusted, req.body);
    if (refused) return reply(res, refused.status, refused.code, refused.message);
    next();
  };
}

/**
 * limitRequest's checks on a parsed POST body, for any HTTP front. A trusted document's id is
 * replaced by its text in `body`, in place.
 */
export function checkRequestBody(limits: RequestLimits, trusted: Map<string, string> | undefined, body: unknown): Refusal | undefined {
  if (Array.isArray(body)) return { status: 400, code: ErrorCode.OPERATION_NOT_ALLOWED, message: 'batched requests are not allowed' };
  if (typeof body !== 'object' || body === null) return { status: 400, code: ErrorCode.BAD_USER_INPUT, message: 'the body must be a JSON object' };
  const request = body as { query?: unknown; documentId?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
  if (trusted) {
    const id = request.documentId ?? request.extensions?.persistedQuery?.sha256Hash;
    const document = typeof id === 'string' ? trusted.get(id.replace(/^sha256:/, '')) : undefined;
    if (!document) return { status: 400, code: ErrorCode.OPERATION_NOT_ALLOWED, message: 'only trusted documents are allowed' };
    request.query = document;
    delete request.extensions?.persistedQuery;
    delete request.documentId;
  }
  if (request.query !== undefined && typeof request.query !== 'string') {
    return { status: 400, code: ErrorCode.BAD_USER_INPUT, message: '`query` must be a string' };
  }
  if (typeof request.query === 'string' && exceedsTokenLimitCached(request.query, limits.maxTokens)) {
    return { status: 400, code: ErrorCode.OPERATION_NOT_ALLOWED, message: `the document has more than ${limits.maxTokens} tokens` };
  }
  return undefined;
}

// Clients send the same few documents over and over: lex each once, not on every request.
const tokenChecks = new LRUCache<string, boolean, { query: string; maxTokens: number }>({
  max: 1000,
  memoMethod: (_key, _stale, { context }) => exceedsTokenLimit(context.query, context.maxTokens),
});

function exceedsTokenLimitCached(query: string, maxTokens: number): boolean {
  return tokenChecks.memo(`${maxTokens}\n${query}`, { context: { query, maxTokens } });
}

/**
 * Per-identity rate limiting: a token bucket per subject (per address when anonymous).
 * In-process, so each gateway instance enforces its own share.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();
  constructor(
    /** Sustained requests per second. */
    private readonly ratePerSecond: number,
    /** Burst size. */
    private readonly burst: number,
  ) {}

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string, now = Date.now()): boolean {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updated: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updated) / 1000) * this.ratePerSecond);
    bucket.updated = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.evictFull(now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Buckets that have refilled completely carry no state worth keeping. */
  private evictFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updated) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
