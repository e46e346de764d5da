import { parse, print } from 'graphql';
import { resumeFrom } from './resume';

const normal = (query: string) => print(parse(query));

describe('resumeFrom (Last-Event-ID → after)', () => {
  test('an `after` given as a variable takes the cursor as its value; the document is unchanged', () => {
    const query = 'subscription($a: ID, $after: String) { paymentStatusChanged(accountId: $a, after: $after) { cursor } }';
    expect(resumeFrom({ query, variables: { a: 'acc1', after: 'old' } }, 'c42')).toEqual({ query, variables: { a: 'acc1', after: 'c42' } });
  });

  test('an inline `after` is replaced, a missing one added', () => {
    const inline = resumeFrom({ query: 'subscription { paymentStatusChanged(accountId: "x", after: "old") { cursor } }' }, 'c42');
    expect(inline.query).toBe(normal('subscription { paymentStatusChanged(accountId: "x", after: "c42") { cursor } }'));
    const missing = resumeFrom({ query: 'subscription S { paymentStatusChanged(paymentId: "p") { cursor } }', operationName: 'S' }, 'c"7');
    expect(missing.query).toBe(normal('subscription S { paymentStatusChanged(paymentId: "p", after: "c\\"7") { cursor } }'));
  });

  test('only the named operation is resumed', () => {
    const query = 'subscription A { paymentStatusChanged { cursor } } subscription B { paymentStatusChanged { status } }';
    const resumed = resumeFrom({ query, operationName: 'B' }, 'c1');
    expect(resumed.query).toBe(normal('subscription A { paymentStatusChanged { cursor } } subscription B { paymentStatusChanged(after: "c1") { status } }'));
  });

  test('unparsable documents and non-subscriptions are left for validation to report', () => {
    expect(resumeFrom({ query: 'subscription {' }, 'c1')).toEqual({ query: 'subscription {' });
    expect(resumeFrom({ query: '{ payment(id: "p") { id } }' }, 'c1')).toEqual({ query: '{ payment(id: "p") { id } }' });
  });
});
