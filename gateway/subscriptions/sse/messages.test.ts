import { completeMessage, nextMessage, resultCursor } from './messages';

describe('graphql-sse messages', () => {
  test('a next message of a distinct connection: the cursor as SSE id, the result as one data line', () => {
    const result = { data: { paymentStatusChanged: { cursor: 'c9', reference: 'two\nlines' } } };
    expect(resultCursor(result)).toBe('c9');
    expect(nextMessage(result, undefined, 'c9')).toBe(`id: c9\nevent: next\ndata: ${JSON.stringify(result)}\n\n`);
    expect(nextMessage(result).split('\n')).toHaveLength(4); // event, data, and the blank line ending the event
  });

  test('in single connection mode messages name their operation', () => {
    expect(nextMessage({ data: { x: 1 } }, 'op1')).toBe('event: next\ndata: {"id":"op1","payload":{"data":{"x":1}}}\n\n');
    expect(completeMessage('op1')).toBe('event: complete\ndata: {"id":"op1"}\n\n');
    expect(completeMessage()).toBe('event: complete\ndata:\n\n');
  });

  test('results without a usable cursor get no id', () => {
    expect(resultCursor({ errors: [{ message: 'shutting down' }] })).toBeUndefined();
    expect(resultCursor({ data: { paymentStatusChanged: { status: 'SETTLED' } } })).toBeUndefined();
    expect(resultCursor({ data: { aliased: { cursor: 'bad\nid' } } })).toBeUndefined();
    expect(resultCursor({ data: { aliased: { cursor: 'c1' } } })).toBe('c1');
  });
});
