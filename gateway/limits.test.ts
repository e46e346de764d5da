import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exceedsTokenLimit, loadTrustedDocuments, RateLimiter } from './limits';

describe('token limit', () => {
  test('counts tokens with the graphql lexer and stops past the limit', () => {
    expect(exceedsTokenLimit('{ a b c }', 5)).toBe(false); // { a b c } = 5 tokens
    expect(exceedsTokenLimit('{ a b c d }', 5)).toBe(true);
    expect(exceedsTokenLimit(`{ ${'a '.repeat(100_000)}}`, 1000)).toBe(true);
  });

  test('leaves syntax errors to the parser', () => {
    expect(exceedsTokenLimit('{ "unterminated', 1000)).toBe(false);
  });
});

describe('rate limiter', () => {
  test('allows the burst, refuses past it, refills over time', () => {
    const limiter = new RateLimiter(2, 3);
    const t0 = 1_000_000;
    expect([limiter.take('a', t0), limiter.take('a', t0), limiter.take('a', t0), limiter.take('a', t0)]).toEqual([true, true, true, false]);
    expect(limiter.take('b', t0)).toBe(true); // buckets are per identity
    expect(limiter.take('a', t0 + 500)).toBe(true); // 0.5 s at 2/s refills one
    expect(limiter.take('a', t0 + 500)).toBe(false);
  });
});

describe('trusted documents manifest', () => {
  test('loads documents keyed by their sha256 and refuses a wrong hash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trusted-'));
    const document = 'query Me { customer(id: "1") { id } }';
    const hash = createHash('sha256').update(document).digest('hex');
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ [hash]: document }));
    expect(loadTrustedDocuments(join(dir, 'good.json'))?.get(hash)).toBe(document);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ [hash]: `${document} ` }));
    expect(() => loadTrustedDocuments(join(dir, 'bad.json'))).toThrow(/does not match/);
    expect(loadTrustedDocuments(undefined)).toBeUndefined();
  });
});
