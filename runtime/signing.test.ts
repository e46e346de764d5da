import { signRequest, verifyRequest, HEADER_SIGNATURE, HEADER_IDENTITY } from './signing';
import type { Identity } from './identity';

const secret = 'test-secret';
const identity: Identity = { subject: 'alice', scopes: ['payments:read'], customerId: 'cus_1' };
const request = { method: 'POST', path: '/graphql', body: '{"query":"{ a }"}' };

function verify(headers: Record<string, string>, overrides: Partial<typeof request> = {}, now = Date.now()) {
  return verifyRequest(secret, { ...request, ...overrides, headers }, { now });
}

describe('request signing', () => {
  const now = 1_800_000_000_000;
  const headers = signRequest(secret, { ...request, identity, now });

  test('a signed request verifies and carries the identity', () => {
    const result = verify(headers, {}, now);
    expect(result).toEqual({ ok: true, identity });
  });

  test.each([
    ['another body', { body: '{"query":"{ b }"}' }],
    ['another path', { path: '/other' }],
    ['another method', { method: 'GET' }],
  ])('refuses the same signature over %s', (_label, overrides) => {
    expect(verify(headers, overrides, now)).toEqual({ ok: false, reason: 'bad signature' });
  });

  test('refuses a replay outside the window', () => {
    expect(verify(headers, {}, now + 61_000)).toEqual({ ok: false, reason: 'signature outside replay window' });
  });

  test('refuses a forged identity', () => {
    const forged = Buffer.from(JSON.stringify({ ...identity, scopes: ['ops:admin'] })).toString('base64url');
    expect(verify({ ...headers, [HEADER_IDENTITY]: forged }, {}, now)).toEqual({ ok: false, reason: 'bad signature' });
  });

  test('refuses a signature made with another secret', () => {
    const other = signRequest('other-secret', { ...request, identity, now });
    expect(verify(other, {}, now)).toEqual({ ok: false, reason: 'bad signature' });
  });

  test('refuses missing and malformed headers', () => {
    expect(verify({}, {}, now)).toEqual({ ok: false, reason: 'missing signature' });
    expect(verify({ ...headers, [HEADER_SIGNATURE]: 'short' }, {}, now)).toEqual({ ok: false, reason: 'bad signature' });
  });
});
