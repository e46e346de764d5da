import { answerFor, coalesceFetches, FetchBatcher, type SubgraphOperation, type SubgraphResult } from './subgraph-batching';

const ENTITIES = 'query Q__risk__1($representations:[_Any!]!){_entities(representations:$representations){...on Payment{riskAssessment{level}}}}';
const LOOKUP = 'query Lookup__accounts__0($id:ID!){account(id:$id){id}}';

const entityFetch = (...ids: string[]): SubgraphOperation => ({
  query: ENTITIES,
  operationName: 'Q__risk__1',
  variables: { representations: ids.map((id) => ({ __typename: 'Payment', id })) },
});

/** What a subgraph answers to an entity operation: each representation's id back, errors on the ids asked to fail. */
function entitiesAnswer(operation: SubgraphOperation, failing: string[] = []): SubgraphResult {
  const representations = operation.variables!.representations as { id: string }[];
  const errors = representations.flatMap(({ id }, index) => (failing.includes(id) ? [{ message: `no ${id}`, path: ['_entities', index, 'riskAssessment'], extensions: { code: 'NOT_FOUND' } }] : []));
  return { data: { _entities: representations.map(({ id }) => (failing.includes(id) ? null : { id })) }, ...(errors.length ? { errors } : {}) };
}

describe('coalesceFetches and answerFor', () => {
  it('merges entity fetches of one shape into one operation and gives each fetch its own slice and errors', () => {
    const fetches = [entityFetch('p1', 'p2'), entityFetch('p3'), entityFetch('p4', 'p5', 'p6')];
    const { sent, parts } = coalesceFetches(fetches);
    expect(sent).toHaveLength(1);
    expect((sent[0].variables!.representations as { id: string }[]).map((r) => r.id)).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    // The fetches' own variables are left as they were.
    expect(fetches[0].variables!.representations).toHaveLength(2);

    const answers = [entitiesAnswer(sent[0], ['p2', 'p5'])];
    const [first, second, third] = parts.map((part) => answerFor(part, answers));
    expect(first.data).toEqual({ _entities: [{ id: 'p1' }, null] });
    expect(first.errors).toEqual([{ message: 'no p2', path: ['_entities', 1, 'riskAssessment'], extensions: { code: 'NOT_FOUND' } }]);
    expect(second).toEqual({ data: { _entities: [{ id: 'p3' }] } });
    expect(third.data).toEqual({ _entities: [{ id: 'p4' }, null, { id: 'p6' }] });
    expect(third.errors).toEqual([{ message: 'no p5', path: ['_entities', 1, 'riskAssessment'], extensions: { code: 'NOT_FOUND' } }]);
  });

  it('gives an error of the whole merged operation to every fetch in it', () => {
    const { sent, parts } = coalesceFetches([entityFetch('p1'), entityFetch('p2')]);
    const failed: SubgraphResult = { data: null, errors: [{ message: 'down', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
    for (const part of parts) expect(answerFor(part, [failed])).toEqual({ data: null, errors: failed.errors });
    expect(sent).toHaveLength(1);
  });

  it('keeps entity fetches with different other variables apart, and sends other operations as they are', () => {
    const withFirst = (first: number, id: string): SubgraphOperation => ({ ...entityFetch(id), variables: { first, representations: [{ __typename: 'Payment', id }] } });
    const lookup = { query: LOOKUP, variables: { id: 'a1' } };
    const { sent, parts, senders } = coalesceFetches([withFirst(10, 'p1'), lookup, withFirst(20, 'p2'), withFirst(10, 'p3')]);
    expect(sent).toHaveLength(3);
    expect(sent[0].variables).toEqual({ first: 10, representations: [{ __typename: 'Payment', id: 'p1' }, { __typename: 'Payment', id: 'p3' }] });
    expect(sent[1]).toBe(lookup);
    expect(sent[2].variables).toEqual({ first: 20, representations: [{ __typename: 'Payment', id: 'p2' }] });
    expect(parts.map((p) => p.sent)).toEqual([0, 1, 2, 0]);
    expect(senders).toEqual([0, 1, 2]);
  });

  it('sends a single fetch untouched', () => {
    const fetch = entityFetch('p1');
    const { sent, parts } = coalesceFetches([fetch]);
    expect(sent[0]).toBe(fetch);
    const answer = entitiesAnswer(fetch);
    expect(answerFor(parts[0], [answer])).toBe(answer);
  });
});

/** A subgraph under test's control: records each request's operations and answers when told to. */
function controlledSubgraph() {
  const requests: { operations: SubgraphOperation[]; carriers: string[]; answer(results?: SubgraphResult[]): void; fail(error: Error): void }[] = [];
  const send = (operations: SubgraphOperation[], carriers: string[]) =>
    new Promise<SubgraphResult[]>((resolve, reject) => {
      requests.push({
        operations,
        carriers,
        answer: (results) => resolve(results ?? operations.map((operation) => (operation.variables?.representations ? entitiesAnswer(operation) : { data: { echo: operation.variables } }))),
        fail: reject,
      });
    });
  return { requests, send };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
/** Carriers here are `caller/request`: the caller is the part before the slash. */
const callerOf = (carrier: string) => carrier.split('/')[0];

describe('FetchBatcher', () => {
  it('sends at once while fewer than maxInFlight batches are out, then sends what waited as one request', async () => {
    const subgraph = controlledSubgraph();
    const sizes: number[] = [];
    const batcher = new FetchBatcher({ maxInFlight: 1, maxFetches: 64 }, subgraph.send, callerOf, (n) => sizes.push(n));
    const first = batcher.fetch('k', entityFetch('p1'), 'alice/1');
    expect(subgraph.requests).toHaveLength(1); // no wait while nothing is in flight
    const later = [batcher.fetch('k', entityFetch('p2'), 'alice/2'), batcher.fetch('k', entityFetch('p3', 'p4'), 'alice/3')];
    expect(subgraph.requests).toHaveLength(1);
    expect(batcher.waiting).toBe(2);

    subgraph.requests[0].answer();
    expect(await first).toEqual({ data: { _entities: [{ id: 'p1' }] } });
    await tick();
    expect(subgraph.requests).toHaveLength(2);
    // One merged operation, sent with the first waiting fetch's carrier (its headers, its identity).
    expect(subgraph.requests[1].operations).toHaveLength(1);
    expect(subgraph.requests[1].carriers).toEqual(['alice/2']);
    subgraph.requests[1].answer();
    expect(await Promise.all(later)).toEqual([{ data: { _entities: [{ id: 'p2' }] } }, { data: { _entities: [{ id: 'p3' }, { id: 'p4' }] } }]);
    expect(sizes).toEqual([1, 2]);
    expect(batcher.waiting).toBe(0);
  });

  it('keeps kinds apart: a busy kind does not hold back another', async () => {
    const subgraph = controlledSubgraph();
    const batcher = new FetchBatcher({ maxInFlight: 1, maxFetches: 64 }, subgraph.send, callerOf);
    void batcher.fetch('risk entities', entityFetch('p1'), 'alice/1');
    const lookup = batcher.fetch('lookup', { query: LOOKUP, variables: { id: 'a1' } }, 'alice/2');
    expect(subgraph.requests.map((r) => r.carriers)).toEqual([['alice/1'], ['alice/2']]);
    subgraph.requests[1].answer();
    expect(await lookup).toEqual({ data: { echo: { id: 'a1' } } });
  });

  it("puts several callers' fetches in one request, but merges entity fetches only within one caller", async () => {
    const subgraph = controlledSubgraph();
    const batcher = new FetchBatcher({ maxInFlight: 1, maxFetches: 64 }, subgraph.send, callerOf);
    const first = batcher.fetch('k', entityFetch('p0'), 'alice/0');
    const waiting = [
      batcher.fetch('k', entityFetch('p1'), 'alice/1'),
      batcher.fetch('k', entityFetch('p2'), 'bob/2'),
      batcher.fetch('k', entityFetch('p3'), 'alice/3'),
    ];
    subgraph.requests[0].answer();
    await first;
    await tick();
    const batch = subgraph.requests[1];
    // Alice's two fetches are one operation, Bob's another; each operation goes with its own caller's carrier.
    expect(batch.operations.map((o) => (o.variables!.representations as { id: string }[]).map((r) => r.id))).toEqual([['p1', 'p3'], ['p2']]);
    expect(batch.carriers).toEqual(['alice/1', 'bob/2']);
    batch.answer();
    expect(await Promise.all(waiting)).toEqual(['p1', 'p2', 'p3'].map((id) => ({ data: { _entities: [{ id }] } })));
  });

  it('sends at most maxFetches per request, and up to maxInFlight requests at once', async () => {
    const subgraph = controlledSubgraph();
    const batcher = new FetchBatcher({ maxInFlight: 2, maxFetches: 2 }, subgraph.send, callerOf);
    const answers = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((id) => batcher.fetch('k', { query: LOOKUP, variables: { id } }, id));
    // a and b went alone at once (two slots); c..g wait.
    expect(subgraph.requests.map((r) => r.operations.length)).toEqual([1, 1]);
    subgraph.requests[0].answer();
    subgraph.requests[1].answer();
    await tick();
    expect(subgraph.requests.map((r) => r.operations.length)).toEqual([1, 1, 2, 2]);
    subgraph.requests[2].answer();
    subgraph.requests[3].answer();
    await tick();
    expect(subgraph.requests.map((r) => r.operations.length)).toEqual([1, 1, 2, 2, 1]);
    subgraph.requests[4].answer();
    expect((await Promise.all(answers)).map((a) => (a.data as { echo: { id: string } }).echo.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('fails every fetch of a request that failed, and goes on with the next', async () => {
    const subgraph = controlledSubgraph();
    const batcher = new FetchBatcher({ maxInFlight: 1, maxFetches: 64 }, subgraph.send, callerOf);
    const first = batcher.fetch('k', entityFetch('p1'), 'c');
    const waiting = [batcher.fetch('k', entityFetch('p2'), 'c'), batcher.fetch('k', entityFetch('p3'), 'c')];
    subgraph.requests[0].answer();
    await first;
    await tick();
    subgraph.requests[1].fail(new Error('connection reset'));
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect((outcomes[0] as PromiseRejectedResult).reason.message).toBe('connection reset');

    const after = batcher.fetch('k', entityFetch('p4'), 'c');
    expect(subgraph.requests).toHaveLength(3);
    subgraph.requests[2].answer();
    expect(await after).toEqual({ data: { _entities: [{ id: 'p4' }] } });
  });
});
