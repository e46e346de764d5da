import { describeGraph, federationLink, type FixtureSubgraph } from './support';

/**
 * Entities: fields of one type owned by three subgraphs, joined by key. `inventory` needs
 * fields of `products` (@requires, with and without arguments), takes `stock` over from it
 * (@override) and shares `name` (@shareable); `reviews` carries the name itself (@provides).
 * The fixtures disagree on purpose where the planner must choose: `products` still answers
 * a stale stock of -1, and `reviews` provides a name of its own, so each answer shows which
 * subgraph the plan used.
 */

const productData = [
  { id: 'p1', name: 'Chair', weight: 5.5, sizeCm: 50 },
  { id: 'p2', name: 'Lamp', weight: 1.25, sizeCm: 30 },
  { id: 'p3', name: 'Desk', weight: 20, sizeCm: 120 },
];
const productById = (id: string) => productData.find((p) => p.id === id) ?? null;

const products: FixtureSubgraph = {
  name: 'products',
  typeDefs: `${federationLink('@shareable')}
    type Query { product(id: ID!): Product shelf(first: Int = 3): [Product] }
    type Product @key(fields: "id") {
      id: ID!
      name: String! @shareable
      weight: Float
      size(unit: String!): Float
      stock: Int
    }`,
  resolvers: {
    Query: {
      product: (_: unknown, { id }) => productById(id),
      shelf: (_: unknown, { first }) => productData.slice(0, first),
    },
    Product: {
      __resolveReference: (reference) => productById(reference.id),
      size: (product, { unit }) => (unit === 'cm' ? product.sizeCm : product.sizeCm / 2.5),
      // Overridden by inventory: never the answer.
      stock: () => -1,
    },
  },
};

const inventoryData: Record<string, { stock: number; inStock: boolean | null }> = {
  p1: { stock: 3, inStock: true },
  p2: { stock: 0, inStock: false },
  // The schema promises inStock; the subgraph has none: its own non-null error, in an entity fetch.
  p3: { stock: 12, inStock: null },
};

const inventory: FixtureSubgraph = {
  name: 'inventory',
  typeDefs: `${federationLink('@external', '@requires', '@override', '@shareable')}
    type Query { lowStock(below: Int = 5): [Product!]! }
    type Product @key(fields: "id") {
      id: ID!
      name: String! @shareable
      weight: Float @external
      size(unit: String!): Float @external
      shippingCost: Float @requires(fields: "weight")
      boxSize: String @requires(fields: "size(unit: \\"cm\\")")
      stock: Int @override(from: "products")
      inStock: Boolean!
    }`,
  resolvers: {
    Query: {
      lowStock: (_: unknown, { below }) => productData.filter((p) => inventoryData[p.id].stock < below).map((p) => ({ id: p.id, name: p.name })),
    },
    Product: {
      // Ids the inventory does not know resolve to null: no entity, and no error.
      __resolveReference: (reference) => (inventoryData[reference.id] ? { ...reference, name: productById(reference.id)?.name } : null),
      shippingCost: (product) => product.weight * 2,
      boxSize: (product) => (product.size > 100 ? 'pallet' : product.size > 40 ? 'large' : 'small'),
      stock: (product) => inventoryData[product.id].stock,
      inStock: (product) => inventoryData[product.id].inStock,
    },
  },
};

const reviewData = [
  { id: 'r1', body: 'Sturdy', stars: 5, productId: 'p1' },
  { id: 'r2', body: 'Wobbly', stars: 2, productId: 'p1' },
  { id: 'r3', body: 'Bright', stars: 4, productId: 'p2' },
  // A product that neither products nor inventory knows.
  { id: 'r4', body: 'Gone', stars: 1, productId: 'p404' },
];

const reviews: FixtureSubgraph = {
  name: 'reviews',
  typeDefs: `${federationLink('@external', '@provides')}
    type Query { review(id: ID!): Review reviews(first: Int = 3): [Review!]! }
    type Review { id: ID! body: String! stars: Int product: Product! @provides(fields: "name") }
    type Product @key(fields: "id") { id: ID! name: String! @external reviews: [Review!]! }`,
  resolvers: {
    Query: {
      review: (_: unknown, { id }) => reviewData.find((r) => r.id === id) ?? null,
      reviews: (_: unknown, { first }) => reviewData.slice(0, first),
    },
    Review: {
      // The name as the review has it: distinguishable from the one `products` would give.
      product: (review) => ({ id: review.productId, name: `${productById(review.productId)?.name ?? 'Unknown'} (as reviewed)` }),
      stars: (review) => {
        if (review.id === 'r2') throw new Error('stars withheld for r2');
        return review.stars;
      },
    },
    Product: {
      __resolveReference: (reference) => ({ id: reference.id }),
      reviews: (product) => reviewData.filter((r) => r.productId === product.id),
    },
  },
};

describeGraph('entities: products, inventory and reviews', [products, inventory, reviews], [
  {
    name: '@requires a field without arguments (@external)',
    query: 'query Shipping($id: ID!) { product(id: $id) { name weight shippingCost } }',
    variables: [{ id: 'p1' }, { id: 'p2' }],
    shows: ([chair, lamp]) => {
      expect(chair.json).toEqual({ data: { product: { name: 'Chair', weight: 5.5, shippingCost: 11 } } });
      expect(lamp.json).toEqual({ data: { product: { name: 'Lamp', weight: 1.25, shippingCost: 2.5 } } });
    },
  },
  {
    name: '@requires a field with arguments',
    query: 'query Box($id: ID!) { product(id: $id) { id boxSize } }',
    variables: [{ id: 'p1' }, { id: 'p3' }, { id: 'p2' }],
    shows: ([chair, desk, lamp]) => {
      expect(chair.json).toEqual({ data: { product: { id: 'p1', boxSize: 'large' } } });
      expect(desk.json).toEqual({ data: { product: { id: 'p3', boxSize: 'pallet' } } });
      expect(lamp.json).toEqual({ data: { product: { id: 'p2', boxSize: 'small' } } });
    },
  },
  {
    name: '@requires over a list',
    query: 'query ShelfShipping($first: Int) { shelf(first: $first) { id shippingCost boxSize } }',
    variables: [{ first: 2 }, { first: 3 }],
    shows: ([two, three]) => {
      expect(two.json).toEqual({ data: { shelf: [{ id: 'p1', shippingCost: 11, boxSize: 'large' }, { id: 'p2', shippingCost: 2.5, boxSize: 'small' }] } });
      expect(three.json).toMatchObject({ data: { shelf: [{}, {}, { id: 'p3', shippingCost: 40, boxSize: 'pallet' }] } });
    },
  },
  {
    name: 'the field @requires needs, asked by the client with other arguments',
    query: 'query ShelfSizes($first: Int) { shelf(first: $first) { id size(unit: "in") boxSize } }',
    variables: [{ first: 1 }, { first: 3 }],
    shows: ([chair, three]) => {
      // What Apollo answers (@apollo/gateway 2.14.4): boxSize is computed from the client's
      // size(unit: "in") (20), not the size(unit: "cm") it requires (50, "large"). The two share
      // a response name in the representation. Ours must answer as Apollo does.
      expect(chair.json).toEqual({ data: { shelf: [{ id: 'p1', size: 20, boxSize: 'small' }] } });
      expect(three.json).toMatchObject({ data: { shelf: [{}, {}, { id: 'p3', size: 48 }] } });
    },
  },
  {
    name: '@provides: the reviews subgraph answers the name itself',
    query: 'query Provided($first: Int) { reviews(first: $first) { body product { id name } } }',
    variables: [{ first: 2 }, { first: 3 }],
    shows: ([two]) => {
      expect(two.json).toEqual({ data: { reviews: [{ body: 'Sturdy', product: { id: 'p1', name: 'Chair (as reviewed)' } }, { body: 'Wobbly', product: { id: 'p1', name: 'Chair (as reviewed)' } }] } });
    },
  },
  {
    name: '@provides beside a field only the owner has',
    query: 'query ProvidedAndOwned($id: ID!) { review(id: $id) { product { name weight stock } } }',
    variables: [{ id: 'r3' }, { id: 'r1' }],
    shows: ([lamp]) => {
      expect(lamp.json).toEqual({ data: { review: { product: { name: 'Lamp (as reviewed)', weight: 1.25, stock: 0 } } } });
    },
  },
  {
    name: '@override(from:): stock comes from inventory',
    query: 'query Stock($id: ID!) { product(id: $id) { name stock } }',
    variables: [{ id: 'p3' }, { id: 'p2' }],
    shows: ([desk, lamp]) => {
      expect(desk.json).toEqual({ data: { product: { name: 'Desk', stock: 12 } } });
      expect(lamp.json).toEqual({ data: { product: { name: 'Lamp', stock: 0 } } });
    },
  },
  {
    name: '@shareable: a query one subgraph answers whole',
    query: 'query LowStock($below: Int) { lowStock(below: $below) { id name stock } }',
    variables: [{ below: 5 }, { below: 1 }, {}],
    shows: ([five, one]) => {
      expect(five.json).toEqual({ data: { lowStock: [{ id: 'p1', name: 'Chair', stock: 3 }, { id: 'p2', name: 'Lamp', stock: 0 }] } });
      expect(one.json).toEqual({ data: { lowStock: [{ id: 'p2', name: 'Lamp', stock: 0 }] } });
    },
  },
  {
    name: 'a non-null field a subgraph returns null for, inside an entity fetch',
    query: 'query InStock($id: ID!) { product(id: $id) { id name inStock } }',
    variables: [{ id: 'p3' }, { id: 'p1' }],
    shows: ([desk, chair]) => {
      expect(desk.json).toMatchObject({ data: { product: null }, errors: [{ path: ['product', 'inStock'] }] });
      expect(chair.json).toEqual({ data: { product: { id: 'p1', name: 'Chair', inStock: true } } });
    },
  },
  {
    name: 'a non-null field a subgraph returns null for, inside an entity fetch over a list',
    query: 'query ShelfInStock($first: Int) { shelf(first: $first) { id inStock } }',
    variables: [{ first: 3 }, { first: 2 }],
    shows: ([three, two]) => {
      expect(three.json).toMatchObject({ data: { shelf: [{ id: 'p1', inStock: true }, { id: 'p2', inStock: false }, null] }, errors: [{ path: ['shelf', 2, 'inStock'] }] });
      expect(two.json).toEqual({ data: { shelf: [{ id: 'p1', inStock: true }, { id: 'p2', inStock: false }] } });
    },
  },
  {
    name: 'an entity no subgraph finds, under a non-null field',
    query: 'query Missing($id: ID!) { review(id: $id) { id product { id inStock } } }',
    variables: [{ id: 'r4' }, { id: 'r3' }],
    shows: ([gone, lamp]) => {
      expect(gone.json).toMatchObject({ data: { review: null }, extensions: { valueCompletion: [{ path: ['review', 'product', 'inStock'] }] } });
      expect(lamp.json).toEqual({ data: { review: { id: 'r3', product: { id: 'p2', inStock: false } } } });
    },
  },
  {
    name: 'errors with paths inside nested lists of entity fetches',
    query: 'query ShelfStars($first: Int) { shelf(first: $first) { name reviews { body stars } } }',
    variables: [{ first: 2 }, { first: 3 }],
    shows: ([two]) => {
      expect(two.json).toMatchObject({
        data: { shelf: [{ reviews: [{ stars: 5 }, { body: 'Wobbly', stars: null }] }, { reviews: [{ stars: 4 }] }] },
        errors: [{ message: 'stars withheld for r2', path: ['shelf', 0, 'reviews', 1, 'stars'] }],
      });
    },
  },
  {
    name: 'three subgraphs in one query, with aliases and __typename',
    query: `query Everything($id: ID!) {
      item: product(id: $id) {
        __typename id label: name stock inStock boxSize
        opinions: reviews { __typename body about: product { name } }
      }
    }`,
    variables: [{ id: 'p2' }, { id: 'p1' }],
    shows: ([lamp]) => {
      expect(lamp.json).toEqual({
        data: { item: { __typename: 'Product', id: 'p2', label: 'Lamp', stock: 0, inStock: false, boxSize: 'small', opinions: [{ __typename: 'Review', body: 'Bright', about: { name: 'Lamp (as reviewed)' } }] } },
      });
    },
  },
]);
