import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANONYMOUS } from '../runtime/identity';
import { createIdentityVerifier } from './auth';

const base = { issuer: 'paygraph-dev', audience: 'paygraph', clockSkewSeconds: 30 };
const secret = 'a-test-secret-that-is-long-enough';
const verifier = createIdentityVerifier({ ...base, secret });

function token(claims: Record<string, unknown> = {}, options: { secret?: string; exp?: number; nbf?: number; iss?: string; aud?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: 'payments:read', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setIssuer(options.iss ?? 'paygraph-dev')
    .setAudience(options.aud ?? 'paygraph')
    .setExpirationTime(options.exp ?? now + 600);
  if (options.nbf) jwt.setNotBefore(options.nbf);
  return jwt.sign(new TextEncoder().encode(options.secret ?? secret));
}

describe('identity verification', () => {
  test('no header is the anonymous identity', async () => {
    await expect(verifier(undefined)).resolves.toBe(ANONYMOUS);
  });

  test('a valid token gives subject, scopes and customer', async () => {
    const identity = await verifier(`Bearer ${await token({ customer_id: 'cus_1', scope: 'payments:read internal' })}`);
    // `internal` can never be granted by a token: it is for signed service calls only.
    expect(identity).toEqual({ subject: 'alice', scopes: ['payments:read'], customerId: 'cus_1' });
  });

  test('a remembered token is honoured until it expires, not after', async () => {
    const strict = createIdentityVerifier({ ...base, clockSkewSeconds: 0, secret });
    const header = `Bearer ${await token({}, { exp: Math.floor(Date.now() / 1000) + 2 })}`;
    await expect(strict(header)).resolves.toMatchObject({ subject: 'alice' });
    await expect(strict(header)).resolves.toMatchObject({ subject: 'alice' });
    await new Promise((resolve) => setTimeout(resolve, 3100));
    await expect(strict(header)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  test.each([
    ['expired', () => token({}, { exp: Math.floor(Date.now() / 1000) - 120 })],
    ['not yet valid', () => token({}, { nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['signed with another secret', () => token({}, { secret: 'another-secret-another-secret!!' })],
    ['from another issuer', () => token({}, { iss: 'evil' })],
    ['for another audience', () => token({}, { aud: 'other' })],
  ])('a token %s is UNAUTHENTICATED', async (_label, make) => {
    await expect(verifier(`Bearer ${await make()}`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  test('a malformed header is UNAUTHENTICATED', async () => {
    await expect(verifier('Basic abc')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(verifier('Bearer not-a-jwt')).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  test('an unsigned (alg none) token is refused', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'alice', scope: 'ops:admin', iss: 'paygraph-dev', aud: 'paygraph', exp: 9e9 })).toString('base64url');
    await expect(verifier(`Bearer ${header}.${payload}.`)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  test('RS256 tokens verify against a JWKS file', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const file = join(mkdtempSync(join(tmpdir(), 'jwks-')), 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [jwk] }));
    const rsVerifier = createIdentityVerifier({ ...base, jwksFile: file });
    const jwt = await new SignJWT({ scope: 'ops:admin' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('ops')
      .setIssuer('paygraph-dev')
      .setAudience('paygraph')
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect(rsVerifier(`Bearer ${jwt}`)).resolves.toEqual({ subject: 'ops', scopes: ['ops:admin'] });
  });
});
