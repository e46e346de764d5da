import { GraphQLError } from 'graphql';
import { describeGraph, federationLink, type FixtureSubgraph } from './support';

/**
 * Response shaping: what the gateway must do to a subgraph's answer before the client sees
 * it (drop what is @inaccessible, enforce non-null, place errors, aliases, fragments,
 * __typename, variables and directives). Most queries here are answered by `catalog` alone,
 * the case the single-fetch path and the fast lane take; `reviews` makes the rest span two.
 */

const catalogData = [
  { id: 'p1', name: 'Chair', availability: 'IN_STOCK', sku: 'C-1', tags: ['wood'], internalCode: 'X-1', prices: { USD: 100, EUR: 90 } },
  { id: 'p2', name: 'Lamp', availability: 'BACKORDER', sku: 'L-2', tags: ['light'], internalCode: 'X-2', prices: { USD: 40, EUR: 36 } },
  // RETIRED is @inaccessible: the subgraph returns it, clients must never see it.
  { id: 'p3', name: 'Desk', availability: 'RETIRED', sku: 'D-3', tags: [], internalCode: 'X-3', prices: { USD: 250, EUR: 230 } },
  // No sku, though the schema promises one: the subgraph's own non-null error.
  { id: 'p4', name: 'Stool', availability: 'IN_STOCK', sku: null, tags: ['wood'], internalCode: 'X-4', prices: { USD: 30, EUR: 27 } },
];
const productById = (id: string) => catalogData.find((p) => p.id === id) ?? null;

const catalog: FixtureSubgraph = {
  name: 'catalog',
  typeDefs: `${federationLink('@inaccessible')}
    enum Availability { IN_STOCK BACKORDER RETIRED @inaccessible }
    enum Currency { USD EUR }
    type AuditRecord @inaccessible { id: ID! }
    type Query {
      product(id: ID!): Product
      requiredProduct(id: ID!): Product!
      products(first: Int = 2, includeRetired: Boolean @inaccessible): [Product!]!
      search(availability: Availability): [Product!]!
      audit: AuditRecord @inaccessible
    }
    type Mutation { setNote(productId: ID!, text: String!): Note! }
    type Note { productId: ID! text: String! length: Int! product: Product }
    type Product @key(fields: "id") {
      id: ID!
      name: String!
      availability: Availability
      sku: String!
      tags: [String!]
      internalCode: String @inaccessible
      price(currency: Currency = USD): Int
    }`,
  resolvers: {
    Query: {
      product: (_: unknown, { id }) => productById(id),
      requiredProduct: (_: unknown, { id }) => productById(id),
      products: (_: unknown, { first }) => catalogData.slice(0, first),
      search: (_: unknown, { availability }) => catalogData.filter((p) => !availability || p.availability === availability),
      audit: () => ({ id: 'audit-1' }),
    },
    Mutation: {
      // Idempotent, and read by nothing else: every gateway sees the same answer in any order.
      setNote: (_: unknown, { productId, text }) => {
        if (text === '') throw new GraphQLError('a note needs text', { extensions: { code: 'BAD_USER_INPUT' } });
        return { productId, text, length: text.length };
      },
    },
    Note: { product: (note) => productById(note.productId) },
    Product: {
      __resolveReference: (reference) => productById(reference.id),
      tags: (product) => {
        if (product.id === 'p2') throw new Error('tags unavailable for p2');
        return product.tags;
      },
      price: (product, { currency }) => product.prices[currency],
    },
  },
};

const reviewData: Record<string, { id: string; body: string; stars: number }[]> = {
  p1: [
    { id: 'r1', body: 'Sturdy', stars: 5 },
    { id: 'r2', body: 'Wobbly', stars: 2 },
  ],
  p2: [{ id: 'r3', body: 'Bright', stars: 4 }],
  p4: [{ id: 'r4', body: 'Short', stars: 3 }],
};

const reviews: FixtureSubgraph = {
  name: 'reviews',
  typeDefs: `${federationLink()}
    type Product @key(fields: "id") { id: ID! reviews: [Review!]! }
    type Review { id: ID! body: String! stars: Int }`,
  resolvers: {
    Product: {
      __resolveReference: (reference) => ({ id: reference.id }),
      reviews: (product) => reviewData[product.id] ?? [],
    },
    Review: {
      stars: (review) => {
        if (review.id === 'r2') throw new Error('stars withheld for r2');
        return review.stars;
      },
    },
  },
};

describeGraph('shaping: catalog and reviews', [catalog, reviews], [
  {
    name: 'an @inaccessible enum value a subgraph returns (one subgraph)',
    query: 'query Availability($id: ID!) { product(id: $id) { id name availability } }',
    variables: [{ id: 'p3' }, { id: 'p1' }],
    shows: ([retired, visible]) => {
      expect(retired.json).toMatchObject({ data: { product: { id: 'p3', availability: null } }, extensions: { valueCompletion: [{ path: ['product', 'availability'] }] } });
      expect(retired.body).not.toContain('RETIRED');
      expect(visible.json).toEqual({ data: { product: { id: 'p1', name: 'Chair', availability: 'IN_STOCK' } } });
    },
  },
  {
    name: 'an @inaccessible enum value inside a list',
    query: 'query Listing($first: Int) { products(first: $first) { id availability } }',
    variables: [{ first: 3 }, { first: 2 }, { first: 4 }],
    shows: ([withRetired, without]) => {
      expect(withRetired.json).toMatchObject({ data: { products: [{}, {}, { id: 'p3', availability: null }] }, extensions: { valueCompletion: [{ path: ['products', 2, 'availability'] }] } });
      expect(without.json.extensions).toBeUndefined();
    },
  },
  {
    name: 'an @inaccessible enum value in a query spanning two subgraphs',
    query: 'query AvailabilityAndReviews($id: ID!) { product(id: $id) { availability reviews { body } } }',
    variables: [{ id: 'p3' }, { id: 'p2' }],
    shows: ([retired, visible]) => {
      expect(retired.json).toMatchObject({ data: { product: { availability: null, reviews: [] } }, extensions: { valueCompletion: [{ path: ['product', 'availability'] }] } });
      expect(visible.json).toMatchObject({ data: { product: { availability: 'BACKORDER', reviews: [{ body: 'Bright' }] } } });
    },
  },
  {
    name: 'an @inaccessible enum value sent as a variable',
    query: 'query Search($availability: Availability) { search(availability: $availability) { id } }',
    variables: [{ availability: 'RETIRED' }, { availability: 'BACKORDER' }],
    shows: ([refused, accepted]) => {
      expect(refused.status).toBe(400);
      expect(refused.json.errors?.[0]?.message).toContain('RETIRED');
      expect(accepted.json).toEqual({ data: { search: [{ id: 'p2' }] } });
    },
  },
  {
    name: 'an @inaccessible field',
    query: 'query Internal($id: ID!) { product(id: $id) { id internalCode } }',
    variables: [{ id: 'p1' }, { id: 'p2' }],
    shows: ([refused]) => {
      expect(refused.status).toBe(400);
      expect(refused.json.errors?.[0]).toMatchObject({ message: expect.stringContaining('internalCode'), extensions: { code: 'BAD_USER_INPUT', reason: 'GRAPHQL_VALIDATION_FAILED' } });
      expect(refused.body).not.toContain('X-1');
    },
  },
  {
    name: 'an @inaccessible argument',
    query: 'query Retired($first: Int) { products(first: $first, includeRetired: true) { id } }',
    variables: [{ first: 1 }, { first: 4 }],
    shows: ([refused]) => {
      expect(refused.status).toBe(400);
      expect(refused.json.errors?.[0]?.message).toContain('includeRetired');
    },
  },
  {
    name: 'an @inaccessible type, by introspection',
    query: 'query TypeByName($name: String!) { __type(name: $name) { name kind } }',
    variables: [{ name: 'AuditRecord' }, { name: 'Availability' }],
    shows: ([hidden, shown]) => {
      expect(hidden.json).toEqual({ data: { __type: null } });
      expect(shown.json).toEqual({ data: { __type: { name: 'Availability', kind: 'ENUM' } } });
    },
  },
  {
    name: 'the field of an @inaccessible type',
    query: 'query Audit($id: ID!) { audit { id } product(id: $id) { id } }',
    variables: [{ id: 'p1' }, { id: 'p2' }],
    shows: ([refused]) => {
      expect(refused.status).toBe(400);
      expect(refused.json.errors?.[0]?.message).toContain('audit');
    },
  },
  {
    name: 'a non-null field a subgraph returns null for, under a nullable root field',
    query: 'query Sku($id: ID!) { product(id: $id) { id sku } }',
    variables: [{ id: 'p4' }, { id: 'p1' }],
    shows: ([broken, whole]) => {
      expect(broken.json).toMatchObject({ data: { product: null }, errors: [{ path: ['product', 'sku'] }] });
      expect(whole.json).toEqual({ data: { product: { id: 'p1', sku: 'C-1' } } });
    },
  },
  {
    name: 'a non-null field a subgraph returns null for, under a non-null root field',
    query: 'query RequiredSku($id: ID!) { requiredProduct(id: $id) { name sku } }',
    variables: [{ id: 'p4' }, { id: 'p2' }],
    shows: ([broken, whole]) => {
      expect(broken.json).toMatchObject({ data: null, errors: [{ path: ['requiredProduct', 'sku'] }] });
      expect(whole.json).toEqual({ data: { requiredProduct: { name: 'Lamp', sku: 'L-2' } } });
    },
  },
  {
    name: 'an error with a path inside a list (one subgraph)',
    query: 'query Tags($first: Int) { products(first: $first) { id tags } }',
    variables: [{ first: 3 }, { first: 1 }],
    shows: ([failing, clean]) => {
      expect(failing.json).toMatchObject({ data: { products: [{ tags: ['wood'] }, { id: 'p2', tags: null }, { tags: [] }] }, errors: [{ message: 'tags unavailable for p2', path: ['products', 1, 'tags'] }] });
      expect(clean.json).toEqual({ data: { products: [{ id: 'p1', tags: ['wood'] }] } });
    },
  },
  {
    name: 'an error with a path inside a list of an entity fetch',
    query: 'query Stars($id: ID!) { product(id: $id) { name reviews { body stars } } }',
    variables: [{ id: 'p1' }, { id: 'p2' }],
    shows: ([failing, clean]) => {
      expect(failing.json).toMatchObject({ data: { product: { reviews: [{ stars: 5 }, { body: 'Wobbly', stars: null }] } }, errors: [{ message: 'stars withheld for r2', path: ['product', 'reviews', 1, 'stars'] }] });
      expect(clean.json.errors).toBeUndefined();
    },
  },
  {
    name: 'aliases (one subgraph)',
    query: 'query Aliases($a: ID!, $b: ID!) { first: product(id: $a) { key: id title: name } second: product(id: $b) { key: id title: name euros: price(currency: EUR) } }',
    variables: [{ a: 'p1', b: 'p2' }, { a: 'p3', b: 'missing' }],
    shows: ([both, one]) => {
      expect(both.json).toEqual({ data: { first: { key: 'p1', title: 'Chair' }, second: { key: 'p2', title: 'Lamp', euros: 36 } } });
      expect(one.json).toEqual({ data: { first: { key: 'p3', title: 'Desk' }, second: null } });
    },
  },
  {
    name: 'aliases across two subgraphs',
    query: 'query AliasedReviews($id: ID!) { item: product(id: $id) { label: name feedback: reviews { text: body } again: reviews { body } } }',
    variables: [{ id: 'p2' }, { id: 'p4' }],
    shows: ([lamp]) => {
      expect(lamp.json).toEqual({ data: { item: { label: 'Lamp', feedback: [{ text: 'Bright' }], again: [{ body: 'Bright' }] } } });
    },
  },
  {
    name: 'named fragments',
    query: `query Fragments($id: ID!) { product(id: $id) { ...Basics reviews { ...ReviewBody } } }
      fragment Basics on Product { id name }
      fragment ReviewBody on Review { id body }`,
    variables: [{ id: 'p1' }, { id: 'p3' }],
    shows: ([chair]) => {
      expect(chair.json).toEqual({ data: { product: { id: 'p1', name: 'Chair', reviews: [{ id: 'r1', body: 'Sturdy' }, { id: 'r2', body: 'Wobbly' }] } } });
    },
  },
  {
    name: 'named fragments (one subgraph)',
    query: 'query OneFragment($id: ID!) { product(id: $id) { ...Card } } fragment Card on Product { id name sku }',
    variables: [{ id: 'p2' }, { id: 'p4' }],
    shows: ([lamp, stool]) => {
      expect(lamp.json).toEqual({ data: { product: { id: 'p2', name: 'Lamp', sku: 'L-2' } } });
      expect(stool.json).toMatchObject({ data: { product: null }, errors: [{ path: ['product', 'sku'] }] });
    },
  },
  {
    name: 'inline fragments (one subgraph)',
    query: 'query Inline($id: ID!) { product(id: $id) { ... on Product { id name } ... { usd: price } } }',
    variables: [{ id: 'p1' }, { id: 'p3' }],
    shows: ([chair]) => {
      expect(chair.json).toEqual({ data: { product: { id: 'p1', name: 'Chair', usd: 100 } } });
    },
  },
  {
    name: '__typename at the root and nested',
    query: 'query Typenames($id: ID!) { __typename product(id: $id) { __typename id reviews { __typename body } } }',
    variables: [{ id: 'p2' }, { id: 'p3' }],
    shows: ([lamp]) => {
      expect(lamp.json).toEqual({ data: { __typename: 'Query', product: { __typename: 'Product', id: 'p2', reviews: [{ __typename: 'Review', body: 'Bright' }] } } });
    },
  },
  {
    name: '__typename nested (one subgraph)',
    query: 'query OneTypename($id: ID!) { product(id: $id) { __typename name } }',
    variables: [{ id: 'p1' }, { id: 'missing' }],
    shows: ([chair, missing]) => {
      expect(chair.json).toEqual({ data: { product: { __typename: 'Product', name: 'Chair' } } });
      expect(missing.json).toEqual({ data: { product: null } });
    },
  },
  {
    name: 'variables with defaults (one subgraph)',
    query: 'query Defaults($id: ID! = "p1", $currency: Currency = EUR) { product(id: $id) { id price(currency: $currency) usd: price } }',
    variables: [{}, { id: 'p2', currency: 'USD' }, { currency: null }],
    shows: ([defaults, given, explicitNull]) => {
      expect(defaults.json).toEqual({ data: { product: { id: 'p1', price: 90, usd: 100 } } });
      expect(given.json).toEqual({ data: { product: { id: 'p2', price: 40, usd: 40 } } });
      expect(explicitNull.json).toMatchObject({ data: { product: { id: 'p1', usd: 100 } } });
    },
  },
  {
    name: '@skip and @include with variables',
    query: 'query Directives($id: ID!, $withReviews: Boolean!, $skipName: Boolean = false) { product(id: $id) { id name @skip(if: $skipName) reviews @include(if: $withReviews) { body } } }',
    variables: [{ id: 'p2', withReviews: true }, { id: 'p2', withReviews: false, skipName: true }],
    shows: ([all, bare]) => {
      expect(all.json).toEqual({ data: { product: { id: 'p2', name: 'Lamp', reviews: [{ body: 'Bright' }] } } });
      expect(bare.json).toEqual({ data: { product: { id: 'p2' } } });
    },
  },
  {
    name: '@skip and @include with variables (one subgraph)',
    query: 'query OneDirective($id: ID!, $withSku: Boolean!) { product(id: $id) { id sku @include(if: $withSku) name @skip(if: $withSku) } }',
    variables: [{ id: 'p1', withSku: true }, { id: 'p1', withSku: false }, { id: 'p4', withSku: false }],
    shows: ([withSku, withoutSku, stool]) => {
      expect(withSku.json).toEqual({ data: { product: { id: 'p1', sku: 'C-1' } } });
      expect(withoutSku.json).toEqual({ data: { product: { id: 'p1', name: 'Chair' } } });
      // Without the broken sku, the stool answers whole.
      expect(stool.json).toEqual({ data: { product: { id: 'p4', name: 'Stool' } } });
    },
  },
  {
    name: 'a mutation (one subgraph), with its error',
    query: 'mutation Note($productId: ID!, $text: String!) { setNote(productId: $productId, text: $text) { productId text length } }',
    variables: [{ productId: 'p1', text: 'hello' }, { productId: 'p2', text: 'goodbye' }, { productId: 'p1', text: '' }],
    shows: ([hello, , refused]) => {
      expect(hello.json).toEqual({ data: { setNote: { productId: 'p1', text: 'hello', length: 5 } } });
      expect(refused.json).toMatchObject({ data: null, errors: [{ message: 'a note needs text', path: ['setNote'], extensions: { code: 'BAD_USER_INPUT' } }] });
    },
  },
  {
    name: 'a mutation whose answer spans two subgraphs',
    query: 'mutation NoteWithReviews($productId: ID!, $text: String!) { setNote(productId: $productId, text: $text) { text product { name reviews { stars } } } }',
    variables: [{ productId: 'p2', text: 'noted' }, { productId: 'p1', text: 'again' }],
    shows: ([lamp, chair]) => {
      expect(lamp.json).toEqual({ data: { setNote: { text: 'noted', product: { name: 'Lamp', reviews: [{ stars: 4 }] } } } });
      expect(chair.json).toMatchObject({ errors: [{ path: ['setNote', 'product', 'reviews', 1, 'stars'] }] });
    },
  },
  {
    name: 'a query one subgraph answers whole',
    query: 'query Whole($id: ID!) { product(id: $id) { id name availability sku tags price } }',
    variables: [{ id: 'p1' }, { id: 'p2' }],
    shows: ([chair, lamp]) => {
      expect(chair.json).toEqual({ data: { product: { id: 'p1', name: 'Chair', availability: 'IN_STOCK', sku: 'C-1', tags: ['wood'], price: 100 } } });
      expect(lamp.json).toMatchObject({ data: { product: { tags: null } }, errors: [{ path: ['product', 'tags'] }] });
    },
  },
]);
