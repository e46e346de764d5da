import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Identity } from './identity';

/**
 * Signed identity headers between the gateway and subgraphs (and subgraph to subgraph).
 * The signature is an HMAC-SHA256 over method, path, timestamp, a digest of the body and the
 * identity itself, so a captured request cannot be replayed outside the window, moved to
 * another path, or given another body or identity.
 */
export const HEADER_IDENTITY = 'x-paygraph-identity';
export const HEADER_TIMESTAMP = 'x-paygraph-timestamp';
export const HEADER_SIGNATURE = 'x-paygraph-signature';

export const DEFAULT_REPLAY_WINDOW_MS = 60_000;

function bodyDigest(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64url');
}

function canonical(method: string, path: string, timestamp: string, body: string | Buffer, identity: string): string {
  return [method.toUpperCase(), path, timestamp, bodyDigest(body), identity].join('\n');
}

// Identities are immutable and one verified identity signs many requests: encode each once.
const encodedIdentities = new WeakMap<Identity, string>();

/** An identity as the identity header carries it (and each operation of a batch, see subgraph-server.ts). */
export function encodeIdentity(identity: Identity): string {
  let encoded = encodedIdentities.get(identity);
  if (encoded === undefined) encodedIdentities.set(identity, (encoded = Buffer.from(JSON.stringify(identity)).toString('base64url')));
  return encoded;
}

/** The identity `encoded` carries, or undefined when it is not one. */
export function decodeIdentity(encoded: unknown): Identity | undefined {
  if (typeof encoded !== 'string') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Identity;
    return typeof parsed?.subject === 'string' && Array.isArray(parsed.scopes) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function signRequest(
  secret: string,
  request: { method: string; path: string; body: string | Buffer; identity: Identity; now?: number },
): Record<string, string> {
  const timestamp = String(request.now ?? Date.now());
  const identity = encodeIdentity(request.identity);
  const signature = createHmac('sha256', secret)
    .update(canonical(request.method, request.path, timestamp, request.body, identity))
    .digest('base64url');
  return { [HEADER_IDENTITY]: identity, [HEADER_TIMESTAMP]: timestamp, [HEADER_SIGNATURE]: signature };
}

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; reason: string };

export function verifyRequest(
  secret: string,
  request: { method: string; path: string; body: string | Buffer; headers: Record<string, string | string[] | undefined> },
  options: { now?: number; windowMs?: number } = {},
): VerifyResult {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const identity = header(HEADER_IDENTITY);
  const timestamp = header(HEADER_TIMESTAMP);
  const signature = header(HEADER_SIGNATURE);
  if (!identity || !timestamp || !signature) return { ok: false, reason: 'missing signature' };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: 'bad timestamp' };
  const age = Math.abs((options.now ?? Date.now()) - Number(timestamp));
  if (age > (options.windowMs ?? DEFAULT_REPLAY_WINDOW_MS)) return { ok: false, reason: 'signature outside replay window' };
  const expected = createHmac('sha256', secret)
    .update(canonical(request.method, request.path, timestamp, request.body, identity))
    .digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad signature' };
  const parsed = decodeIdentity(identity);
  return parsed ? { ok: true, identity: parsed } : { ok: false, reason: 'bad identity' };
}
