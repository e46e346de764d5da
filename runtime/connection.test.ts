import { decodeTimeCursor, encodeTimeCursor, pageSize, toConnection } from './connection';
import { errorCodeOf } from '../tests/support/error-code';


test('page size defaults, accepts 1..100 and refuses the rest', () => {
  expect(pageSize(undefined)).toBe(20);
  expect(pageSize(null, 5)).toBe(5);
  expect(pageSize(100)).toBe(100);
  for (const bad of [0, 101, -1, 1.5, '10', { $gt: 0 }]) expect(errorCodeOf(() => pageSize(bad))).toBe('BAD_USER_INPUT');
});

test('a connection page tells whether more rows follow', () => {
  expect(toConnection([1, 2, 3], 2, String)).toEqual({
    edges: [{ cursor: '1', node: 1 }, { cursor: '2', node: 2 }],
    pageInfo: { hasNextPage: true, endCursor: '2' },
  });
  expect(toConnection([], 2, String)).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
});

test('time cursors round-trip and malformed ones are BAD_USER_INPUT', () => {
  const at = new Date('2026-11-24T19:03:00.000Z');
  expect(decodeTimeCursor(encodeTimeCursor(at, 'pay_abc123'))).toEqual({ at, id: 'pay_abc123' });
  expect(decodeTimeCursor(undefined)).toBeNull();
  const forged = Buffer.from(JSON.stringify([1, { $gt: '' }])).toString('base64url');
  for (const bad of ['', 'not a cursor!', forged, 'x'.repeat(300), 42]) expect(errorCodeOf(() => decodeTimeCursor(bad))).toBe('BAD_USER_INPUT');
});
