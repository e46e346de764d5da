import { describeGraph, federationLink, type FixtureSubgraph } from './support';

/**
 * Abstract types across subgraphs: an entity interface (`@key` on `Media`) whose
 * implementations live in `media`; `ratings` extends every Media at once as an
 * @interfaceObject, knowing no implementation; and a union whose members differ by subgraph
 * (`media` has no Podcast, `podcasts` has no Movie), so the planner must drop the fragments a
 * subgraph cannot answer.
 */

const mediaData = [
  { id: 'b1', kind: 'Book', title: 'Dune', author: 'Herbert' },
  { id: 'm1', kind: 'Movie', title: 'Alien', director: 'Scott' },
  { id: 'b2', kind: 'Book', title: 'Emma', author: 'Austen' },
  { id: 'm2', kind: 'Movie', title: 'Heat', director: 'Mann' },
];
const mediaById = (id: string) => mediaData.find((m) => m.id === id) ?? null;
const withTypename = (media: (typeof mediaData)[number] | null) => (media ? { __typename: media.kind, ...media } : null);

const media: FixtureSubgraph = {
  name: 'media',
  typeDefs: `${federationLink()}
    type Query { media(id: ID!): Media library: [Media!]! search(term: String!): [SearchResult!]! }
    interface Media @key(fields: "id") { id: ID! title: String! }
    type Book implements Media @key(fields: "id") { id: ID! title: String! author: String! }
    type Movie implements Media @key(fields: "id") { id: ID! title: String! director: String! }
    union SearchResult = Book | Movie`,
  resolvers: {
    Query: {
      media: (_: unknown, { id }) => withTypename(mediaById(id)),
      library: () => mediaData.map(withTypename),
      search: (_: unknown, { term }) => mediaData.filter((m) => m.title.toLowerCase().includes(term.toLowerCase())).map(withTypename),
    },
    // The interface's own reference resolver: `ratings` sends { __typename: "Media", id }.
    Media: { __resolveReference: (reference) => withTypename(mediaById(reference.id)), __resolveType: (m) => m.__typename },
    SearchResult: { __resolveType: (m) => m.__typename },
    Book: { __resolveReference: (reference) => withTypename(mediaById(reference.id)) },
    Movie: { __resolveReference: (reference) => withTypename(mediaById(reference.id)) },
  },
};

const scores: Record<string, { score: number; votes: number | null }> = {
  b1: { score: 4.5, votes: 120 },
  m1: { score: 4.8, votes: 300 },
  b2: { score: 3.9, votes: 45 },
  // votes is non-null in the schema: the subgraph's own error, in an entity fetch.
  m2: { score: 4.1, votes: null },
};

const ratings: FixtureSubgraph = {
  name: 'ratings',
  typeDefs: `${federationLink('@interfaceObject')}
    type Query { topRated(first: Int = 2): [Media!]! }
    type Media @key(fields: "id") @interfaceObject { id: ID! score: Float votes: Int! }`,
  resolvers: {
    Query: {
      topRated: (_: unknown, { first }) =>
        Object.entries(scores)
          .sort(([, a], [, b]) => b.score - a.score)
          .slice(0, first)
          .map(([id]) => ({ id })),
    },
    Media: {
      __resolveReference: (reference) => ({ id: reference.id }),
      score: (m) => {
        if (m.id === 'b2') throw new Error('score withheld for b2');
        return scores[m.id]?.score ?? null;
      },
      votes: (m) => scores[m.id]?.votes ?? null,
    },
  },
};

const podcastData = [
  { __typename: 'Podcast', id: 'c1', title: 'Dune Talk', host: 'Ana' },
  { __typename: 'Book', id: 'b1' },
  { __typename: 'Podcast', id: 'c2', title: 'Heat Check', host: 'Bo' },
];

const podcasts: FixtureSubgraph = {
  name: 'podcasts',
  typeDefs: `${federationLink()}
    type Query { featured(first: Int = 3): [SearchResult!]! }
    union SearchResult = Book | Podcast
    type Book @key(fields: "id", resolvable: false) { id: ID! }
    type Podcast { id: ID! title: String! host: String! }`,
  resolvers: {
    Query: { featured: (_: unknown, { first }) => podcastData.slice(0, first) },
    SearchResult: { __resolveType: (r) => r.__typename },
  },
};

describeGraph('abstract types: media, ratings and podcasts', [media, ratings, podcasts], [
  {
    name: 'an entity interface, its implementations by inline fragment (one subgraph)',
    query: 'query OneMedia($id: ID!) { media(id: $id) { __typename id title ... on Book { author } ... on Movie { director } } }',
    variables: [{ id: 'b1' }, { id: 'm1' }, { id: 'none' }],
    shows: ([book, movie, none]) => {
      expect(book.json).toEqual({ data: { media: { __typename: 'Book', id: 'b1', title: 'Dune', author: 'Herbert' } } });
      expect(movie.json).toEqual({ data: { media: { __typename: 'Movie', id: 'm1', title: 'Alien', director: 'Scott' } } });
      expect(none.json).toEqual({ data: { media: null } });
    },
  },
  {
    name: '@interfaceObject fields on an entity interface',
    query: 'query Scored($id: ID!) { media(id: $id) { __typename title score ... on Book { author } } }',
    variables: [{ id: 'm1' }, { id: 'b1' }],
    shows: ([movie, book]) => {
      expect(movie.json).toEqual({ data: { media: { __typename: 'Movie', title: 'Alien', score: 4.8 } } });
      expect(book.json).toEqual({ data: { media: { __typename: 'Book', title: 'Dune', score: 4.5, author: 'Herbert' } } });
    },
  },
  {
    name: 'a root field of the @interfaceObject subgraph, typed by the interface owner',
    query: 'query TopRated($first: Int) { topRated(first: $first) { __typename id score title ... on Movie { director } } }',
    variables: [{ first: 2 }, { first: 1 }],
    shows: ([two]) => {
      expect(two.json).toEqual({ data: { topRated: [{ __typename: 'Movie', id: 'm1', score: 4.8, title: 'Alien', director: 'Scott' }, { __typename: 'Book', id: 'b1', score: 4.5, title: 'Dune' }] } });
    },
  },
  {
    name: 'a non-null field an @interfaceObject subgraph returns null for',
    query: 'query Votes($id: ID!) { media(id: $id) { id title votes } }',
    variables: [{ id: 'm2' }, { id: 'b2' }],
    shows: ([heat, emma]) => {
      expect(heat.json).toMatchObject({ data: { media: null }, errors: [{ path: ['media', 'votes'] }] });
      expect(emma.json).toEqual({ data: { media: { id: 'b2', title: 'Emma', votes: 45 } } });
    },
  },
  {
    name: 'an error with a path inside a list, from an @interfaceObject entity fetch',
    query: 'query LibraryScores($withScore: Boolean!) { library { id score @include(if: $withScore) } }',
    variables: [{ withScore: true }, { withScore: false }],
    shows: ([scored, bare]) => {
      expect(scored.json).toMatchObject({ data: { library: [{ score: 4.5 }, { score: 4.8 }, { id: 'b2', score: null }, { score: 4.1 }] }, errors: [{ message: 'score withheld for b2', path: ['library', 2, 'score'] }] });
      expect(bare.json).toEqual({ data: { library: [{ id: 'b1' }, { id: 'm1' }, { id: 'b2' }, { id: 'm2' }] } });
    },
  },
  {
    name: 'a union member one subgraph does not know',
    query: 'query Search($term: String!) { search(term: $term) { __typename ... on Book { title author } ... on Movie { title } ... on Podcast { title host } } }',
    variables: [{ term: 'a' }, { term: 'dune' }],
    shows: ([e, dune]) => {
      expect(e.json).toEqual({ data: { search: [{ __typename: 'Movie', title: 'Alien' }, { __typename: 'Book', title: 'Emma', author: 'Austen' }, { __typename: 'Movie', title: 'Heat' }] } });
      expect(dune.json).toEqual({ data: { search: [{ __typename: 'Book', title: 'Dune', author: 'Herbert' }] } });
    },
  },
  {
    name: 'union members another subgraph resolves, and one this subgraph does not know',
    query: 'query Featured($first: Int) { featured(first: $first) { __typename ... on Podcast { title host } ... on Book { title author score } ... on Movie { director } } }',
    variables: [{ first: 3 }, { first: 1 }],
    shows: ([three]) => {
      expect(three.json).toEqual({
        data: { featured: [{ __typename: 'Podcast', title: 'Dune Talk', host: 'Ana' }, { __typename: 'Book', title: 'Dune', author: 'Herbert', score: 4.5 }, { __typename: 'Podcast', title: 'Heat Check', host: 'Bo' }] },
      });
    },
  },
  {
    name: '__typename alone in unions and interfaces',
    query: 'query Kinds($term: String!) { search(term: $term) { __typename } library { __typename } featured { __typename } }',
    variables: [{ term: 'a' }, { term: 'zzz' }],
    shows: ([a, none]) => {
      expect(a.json).toEqual({
        data: { search: [{ __typename: 'Movie' }, { __typename: 'Book' }, { __typename: 'Movie' }], library: [{ __typename: 'Book' }, { __typename: 'Movie' }, { __typename: 'Book' }, { __typename: 'Movie' }], featured: [{ __typename: 'Podcast' }, { __typename: 'Book' }, { __typename: 'Podcast' }] },
      });
      expect(none.json).toMatchObject({ data: { search: [] } });
    },
  },
  {
    name: 'named fragments on an interface and a union',
    query: `query Fragments($term: String!) { search(term: $term) { ...Hit } topRated(first: 1) { ...MediaBits } }
      fragment MediaBits on Media { __typename id title score }
      fragment Hit on SearchResult { __typename ... on Media { ...MediaBits } ... on Book { author } }`,
    variables: [{ term: 'dune' }, { term: 'heat' }],
    shows: ([dune]) => {
      expect(dune.json).toEqual({ data: { search: [{ __typename: 'Book', id: 'b1', title: 'Dune', score: 4.5, author: 'Herbert' }], topRated: [{ __typename: 'Movie', id: 'm1', title: 'Alien', score: 4.8 }] } });
    },
  },
]);
