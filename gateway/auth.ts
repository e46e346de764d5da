import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { unauthenticated } from '../runtime/errors';
import { ANONYMOUS, type Identity } from '../runtime/identity';
import type { GatewayConfig } from './config';

/**
 * Verifies bearer tokens into an `Identity`: HS256 with a shared secret for development,
 * RS256/ES256 against a JWKS (file or URL) for production; issuer, audience, expiry and
 * not-before checked with a small clock skew. No token is the anonymous identity; a bad
 * token is UNAUTHENTICATED, never anonymous.
 */
export type IdentityVerifier = (authorization: string | undefined) => Promise<Identity>;

/**
 * Verified tokens are remembered, so a client's every request does not pay for a signature
 * check (a sixteenth of the gateway's CPU on a simple lookup): until the token expires, and
 * for at most this long, so a key removed from the JWKS stops being honoured soon after.
 */
const REMEMBER_VERIFIED_MS = 60_000;
const REMEMBERED_TOKENS = 10_000;

export function createIdentityVerifier(config: GatewayConfig['jwt']): IdentityVerifier {
  const keys: { key: Uint8Array | JWTVerifyGetKey; algorithms: string[] }[] = [];
  if (config.jwksFile) keys.push({ key: createLocalJWKSet(JSON.parse(readFileSync(config.jwksFile, 'utf8'))), algorithms: ['RS256', 'ES256'] });
  if (config.jwksUrl) keys.push({ key: createRemoteJWKSet(new URL(config.jwksUrl)), algorithms: ['RS256', 'ES256'] });
  if (config.secret) keys.push({ key: new TextEncoder().encode(config.secret), algorithms: ['HS256'] });

  const verify = async (token: string): Promise<{ identity: Identity; expiresAt: number }> => {
    for (const { key, algorithms } of keys) {
      try {
        const options = { issuer: config.issuer, audience: config.audience, algorithms, clockTolerance: config.clockSkewSeconds, requiredClaims: ['exp', 'sub'] };
        const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options); // two overloads of one call
        return { identity: identityFromClaims(payload), expiresAt: (payload.exp! + config.clockSkewSeconds) * 1000 };
      } catch {
        // try the next key source; the caller only learns that the token is not valid
      }
    }
    throw unauthenticated('invalid or expired token');
  };
  const remembered = new LRUCache<string, Identity>({ max: REMEMBERED_TOKENS, ttl: REMEMBER_VERIFIED_MS });

  return async (authorization) => {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const match = /^Bearer ([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*)$/.exec(authorization.trim());
    if (!match) throw unauthenticated('malformed Authorization header: expected "Bearer <JWT>"');
    const token = match[1];
    const known = remembered.get(token);
    if (known) return known;
    const now = Date.now();
    const { identity, expiresAt } = await verify(token);
    // Never remembered past the token's own expiry.
    remembered.set(token, identity, { ttl: Math.max(1, Math.min(expiresAt - now, REMEMBER_VERIFIED_MS)) });
    return identity;
  };
}

export function identityFromClaims(payload: JWTPayload): Identity {
  const scope = typeof payload.scope === 'string' ? payload.scope : '';
  const customerId = typeof payload.customer_id === 'string' && payload.customer_id !== '' ? payload.customer_id : undefined;
  if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthenticated('token has no subject');
  const scopes = scope.split(/\s+/).filter((s) => s && s !== 'internal');
  return { subject: payload.sub, scopes, ...(customerId ? { customerId } : {}) };
}
