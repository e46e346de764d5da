import { composeServices } from '@apollo/composition';
import { getOperationAST, parse } from 'graphql';
import { graphSnapshot, type GraphSnapshot } from '../subscriptions/graph';
import { actualCost } from './actual-cost';
import { planOperationCost } from './cost-plan';
import { estimatedCost } from './estimated-cost';
import { SlicingArgumentError } from './list-size';
import { OperationCosts } from './operation-costs';

/**
 * The cost rules over small composed graphs, each expected figure worked out by hand in the
 * comment beside it (default list size 10 unless said).
 */
function link(imports: string): string {
  return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ${imports})`;
}

const SHOP = `${link('["@key", "@cost", "@listSize"]')}
scalar Blob @cost(weight: 3)
enum Tier @cost(weight: 2) { GOLD SILVER }
type Query {
  book(id: ID!): Book
  books(first: Int = 5, last: Int): [Book!]! @listSize(slicingArguments: ["first", "last"], requireOneSlicingArgument: false)
  bestsellers: [Book!]! @listSize(assumedSize: 4)
  shelves: [Shelf!]!
  page(first: Int, last: Int): BookConnection! @listSize(slicingArguments: ["first", "last"], sizedFields: ["edges"])
  search(filter: BookFilter @cost(weight: 5)): [Book!]! @listSize(assumedSize: 2)
  media: [Media!]! @listSize(assumedSize: 3)
}
type Mutation { addBook(input: BookInput!): Book! }
input BookFilter { title: String @cost(weight: 7) tags: [String!] }
input BookInput { title: String! author: AuthorInput }
input AuthorInput { name: String! }
type Book @key(fields: "id") { id: ID! title: String blob: Blob tier: Tier author: Author @cost(weight: 4) }
type Author { name: String }
type Shelf { id: ID! }
type BookConnection { edges: [BookEdge!]! pageInfo: PageInfo! }
type BookEdge { node: Book! }
type PageInfo { hasNext: Boolean! }
interface Media { id: ID! }
type Film implements Media { id: ID! director: Author cast: [Author!]! @listSize(assumedSize: 6) }
type Song implements Media { id: ID! artist: Author }
`;

const REVIEWS = `${link('["@key", "@cost", "@listSize"]')}
type Book @key(fields: "id") { id: ID! reviews: [Review!]! @listSize(assumedSize: 3) }
type Review @cost(weight: 5) { stars: Int }
`;

function compose(subgraphs: Record<string, string>): GraphSnapshot {
  const result = composeServices(Object.entries(subgraphs).map(([name, sdl]) => ({ name, typeDefs: parse(sdl), url: `http://${name}.example/graphql` })));
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return graphSnapshot(result.supergraphSdl, () => ({}));
}

const shop = compose({ shop: SHOP, reviews: REVIEWS });

function planOf(query: string, graph = shop) {
  const document = parse(query);
  return planOperationCost(graph.apiSchema, graph.supergraphSchema, document, getOperationAST(document)!);
}

function estimate(query: string, variables: Record<string, unknown> = {}, listSize = 10, graph = shop): number {
  return estimatedCost(planOf(query, graph), variables, listSize);
}

describe('estimated cost', () => {
  test('objects cost 1, scalars and enums 0', () => {
    // book 1 + author (field @cost 4) + title/name 0
    expect(estimate('{ book(id: "1") { title author { name } } }')).toBe(5);
    expect(estimate('{ book(id: "1") { id title } }')).toBe(1);
  });

  test('@cost on scalars and enums weighs every field of that type', () => {
    // book 1 + blob (Blob @cost 3) + tier (Tier @cost 2)
    expect(estimate('{ book(id: "1") { blob tier } }')).toBe(6);
  });

  test('@cost on an object type weighs its fields from another subgraph', () => {
    // book 1 + reviews: 3 (assumedSize) × Review @cost 5
    expect(estimate('{ book(id: "1") { reviews { stars } } }')).toBe(16);
  });

  test('a list is multiplied by its slicing argument: a literal, a variable, or the default', () => {
    expect(estimate('{ books(first: 3) { title } }')).toBe(3);
    expect(estimate('{ books { title } }')).toBe(5); // the argument's default, first: 5
    const byVariable = 'query($n: Int) { books(first: $n) { id } }';
    expect(estimate(byVariable, { n: 7 })).toBe(7);
    expect(estimate(byVariable, {})).toBe(5); // a variable left out: the argument's default
    expect(estimate('query($n: Int = 9) { books(first: $n) { id } }', { n: 9 })).toBe(9);
    // two slicing arguments: the larger
    expect(estimate('{ books(first: 2, last: 6) { id } }')).toBe(6);
    // a slicing argument multiplies the whole item: 3 × (book 1 + author 4)
    expect(estimate('{ books(first: 3) { author { name } } }')).toBe(15);
  });

  test('assumedSize, else the default list size', () => {
    // 4 × (book 1 + author 4)
    expect(estimate('{ bestsellers { author { name } } }')).toBe(20);
    expect(estimate('{ shelves { id } }')).toBe(10);
    expect(estimate('{ shelves { id } }', {}, 3)).toBe(3);
  });

  test('sizedFields: a connection is one object, its edges the sized list', () => {
    // page 1 + edges 4 × (edge 1 + node 1) + pageInfo 1
    expect(estimate('{ page(first: 4) { edges { node { title } } pageInfo { hasNext } } }')).toBe(10);
    expect(estimate('query($n: Int) { page(first: $n) { edges { node { id } } } }', { n: 50 })).toBe(101);
  });

  test('requireOneSlicingArgument: none, or two, is refused', () => {
    expect(() => estimate('{ page { edges { node { id } } } }')).toThrow(SlicingArgumentError);
    expect(() => estimate('{ page(first: 1, last: 2) { edges { node { id } } } }')).toThrow(/exactly one of its slicing arguments \(first, last\); the operation gives 2/);
    expect(() => estimate('query($n: Int) { page(first: $n) { edges { node { id } } } }', { n: null })).toThrow(SlicingArgumentError);
  });

  test('argument and input field weights, from literals and variables', () => {
    // search 2 × book 1; filter: its @cost 5 (instead of an input object's 1) + title @cost 7 + tags 0
    expect(estimate('{ search(filter: { title: "x", tags: ["a", "b"] }) { id } }')).toBe(14);
    expect(estimate('query($f: BookFilter) { search(filter: $f) { id } }', { f: { title: 'x' } })).toBe(14);
    expect(estimate('query($f: BookFilter) { search(filter: $f) { id } }', { f: { tags: ['a'] } })).toBe(7);
    expect(estimate('{ search { id } }')).toBe(2);
  });

  test('a mutation costs 10 before its fields', () => {
    // 10 + addBook 1 + input object 1 + author input object 1
    expect(estimate('mutation { addBook(input: { title: "t", author: { name: "n" } }) { id } }')).toBe(13);
    expect(estimate('mutation { addBook(input: { title: "t" }) { id } }')).toBe(12);
  });

  test('fragments on an interface cost what the costliest possible type would', () => {
    // media 3 × (1 + max(Film: director 1 + cast 6 × 1, Song: artist 1))
    const inline = '{ media { id ... on Film { director { name } cast { name } } ... on Song { artist { name } } } }';
    expect(estimate(inline)).toBe(24);
    const named = '{ media { ...F ...S } } fragment F on Film { director { name } cast { name } } fragment S on Song { artist { name } }';
    expect(estimate(named)).toBe(24);
    // only Song's fields: 3 × (1 + 1)
    expect(estimate('{ media { ... on Song { artist { name } } } }')).toBe(6);
  });

  test('a field selected twice (directly and in a fragment) is one field, as execution merges it', () => {
    expect(estimate('{ book(id: "1") { author { name } ...F } } fragment F on Book { author { name } }')).toBe(5);
    // aliases are separate fields
    expect(estimate('{ book(id: "1") { a: author { name } b: author { name } } }')).toBe(9);
  });

  test('@skip and @include, literal or variable', () => {
    const skipped = 'query($s: Boolean!) { book(id: "1") { author @skip(if: $s) { name } } }';
    expect(estimate(skipped, { s: true })).toBe(1);
    expect(estimate(skipped, { s: false })).toBe(5);
    expect(estimate('{ book(id: "1") { author @include(if: false) { name } } }')).toBe(1);
    // included through a fragment under a condition
    expect(estimate('query($i: Boolean!) { book(id: "1") { ... @include(if: $i) { author { name } } } }', { i: false })).toBe(1);
  });

  test('__typename and introspection cost nothing', () => {
    expect(estimate('{ __typename book(id: "1") { __typename } }')).toBe(1);
  });

  test('directives renamed by composition are still read', () => {
    const renamed = compose({
      a: `${link('["@key", { name: "@cost", as: "@weight" }, { name: "@listSize", as: "@size" }]')}
type Query { things: [Thing!]! @size(assumedSize: 7) }
type Thing @weight(weight: 3) { id: ID! }`,
    });
    expect(estimate('{ things { id } }', {}, 10, renamed)).toBe(21);
  });
});

describe('actual cost', () => {
  test('counts what came back, by the same rules', () => {
    const plan = planOf('{ books(first: 3) { author { name } } }');
    // 2 books: each 1 + author 4; a null author still costs its declared @cost 4
    expect(actualCost(plan, { books: [{ author: { name: 'a' } }, { author: null }] }, {})).toBe(10);
    expect(actualCost(plan, { books: [] }, {})).toBe(0);
    expect(actualCost(plan, null, {})).toBe(0);
  });

  test('equals the estimate when every list has its estimated size', () => {
    const query = 'mutation { addBook(input: { title: "t" }) { id author { name } } }';
    expect(actualCost(planOf(query), { addBook: { id: '1', author: { name: 'n' } } }, {})).toBe(estimate(query));
    const page = '{ page(first: 2) { edges { node { title reviews { stars } } } pageInfo { hasNext } } }';
    const node = { title: 't', reviews: [{ stars: 1 }, { stars: 2 }, { stars: 3 }] };
    const data = { page: { edges: [{ node }, { node }], pageInfo: { hasNext: false } } };
    // page 1 + 2 × (edge 1 + node 1 + 3 × 5) + pageInfo 1
    expect(estimate(page)).toBe(36);
    expect(actualCost(planOf(page), data, {})).toBe(36);
  });

  test("an interface's object costs its own type's fields when __typename says which", () => {
    const plan = planOf('{ media { __typename ... on Film { cast { name } } ... on Song { artist { name } } } }');
    const data = { media: [{ __typename: 'Song', artist: { name: 'x' } }, { __typename: 'Film', cast: [{ name: 'a' }] }] };
    // Song 1 + artist 1; Film 1 + one cast member 1
    expect(actualCost(plan, data, {})).toBe(4);
  });

  test('a field skipped (absent from the result) costs nothing, its arguments included', () => {
    const plan = planOf('query($s: Boolean!) { search(filter: { title: "x" }) @skip(if: $s) { id } }');
    expect(actualCost(plan, {}, { s: true })).toBe(0);
    // 2 books + filter 5 + title 7
    expect(actualCost(plan, { search: [{ id: '1' }, { id: '2' }] }, { s: false })).toBe(14);
  });
});

describe('OperationCosts', () => {
  const request = (query: string, variables: Record<string, unknown> = {}, graph = shop) => ({
    schema: graph.apiSchema,
    supergraph: graph.supergraphSchema,
    documentKey: query,
    document: parse(query),
    variables,
  });

  test('refuses over the limit with the figures, and a missing slicing argument as bad input', () => {
    const costs = new OperationCosts({ maxCost: 20, mode: 'enforce', defaultListSize: 10 });
    expect(costs.assess(request('{ books(first: 4) { author { name } } }'))?.refusal).toBeUndefined(); // 20
    const over = costs.assess(request('{ books(first: 5) { author { name } } }')); // 25
    expect(over?.estimated).toBe(25);
    expect(over?.refusal?.extensions).toEqual({ code: 'OPERATION_NOT_ALLOWED', estimatedCost: 25, maxCost: 20 });
    const unsliced = costs.assess(request('{ page { edges { node { id } } } }'));
    expect(unsliced?.refusal?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'Query.page', slicingArguments: ['first', 'last'] });
    // still estimated (measure mode reports it): no size, so edges take the default list size, 1 + 10 × (1 + 1)
    expect(unsliced?.estimated).toBe(21);
  });

  test('applies defaults of variables, and leaves variables that do not coerce to execution', () => {
    const costs = new OperationCosts({ maxCost: 1000, mode: 'enforce', defaultListSize: 10 });
    expect(costs.assess(request('query($n: Int = 8) { books(first: $n) { id } }'))?.estimated).toBe(8);
    expect(costs.assess(request('query($n: Int!) { books(first: $n) { id } }', { n: 'many' }))).toBeUndefined();
  });

  test('plans once per document and API schema; each request only applies its variables', () => {
    const costs = new OperationCosts({ maxCost: 1000, mode: 'enforce', defaultListSize: 10 });
    const query = 'query($n: Int) { books(first: $n) { id } }';
    const first = costs.assess(request(query, { n: 2 }));
    const second = costs.assess(request(query, { n: 3 }));
    expect(second?.plan).toBe(first?.plan);
    expect([first?.estimated, second?.estimated]).toEqual([2, 3]);
    // A document no variable reaches keeps its first estimate: the same as working it out again.
    const fixed = '{ books(first: 30) { author { name } } }';
    const answers = [costs.assess(request(fixed)), costs.assess(request(fixed, { unused: 1 }))];
    expect(answers.map((a) => a?.estimated)).toEqual([estimate(fixed), estimate(fixed)]);
    expect(answers.map((a) => a?.refusal?.extensions)).toEqual([undefined, undefined]);
    const reloaded = compose({ shop: SHOP, reviews: REVIEWS });
    expect(costs.assess(request(query, { n: 2 }, reloaded))?.plan).not.toBe(first?.plan);
  });
});
