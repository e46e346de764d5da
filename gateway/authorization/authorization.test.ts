import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { defaultFieldResolver, execute, GraphQLError, parse, print, type ExecutionResult, type GraphQLFieldResolver } from 'graphql';
import { ANONYMOUS, type Identity } from '../../runtime/identity';
import { graphFromSupergraphSdl, type GraphSnapshot } from '../subscriptions/graph';
import { Authorizer, type AuthorizationDecision } from './authorizer';
import type { FilteredOperation } from './operation-filter';
import { parsePolicyRules, ruleHolds } from './policies';
import { restoreRemovedFields, unauthorizedError } from './restore';
import { withEnforcedSecurityFeatures } from './security-features';
import { subscriptionAuthorization } from './subscriptions';

/**
 * The filter and its null propagation, against graphql-js itself: an operation filtered for a
 * caller, run, and restored must answer exactly what graphql-js answers for the original
 * operation when each removed field fails with UNAUTHORIZED_FIELD_OR_TYPE (data byte for
 * byte, key order included, and the same errors at the same paths).
 */
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes", "@policy"])';

const PEOPLE = `${LINK}
type Query {
  public: String
  me: User @authenticated
  secret: String @requiresScopes(scopes: [["a:read", "b:read"], ["admin"]])
  users: [User!]!
  maybeUsers: [User]
  team: Team
  strict: Strict!
  node: Node
  search: [SearchResult!]!
  level: Level
  code: Code
}
type Mutation { promote(id: ID!): User @requiresScopes(scopes: [["admin"]])  rename(id: ID!): User }
type Subscription { userChanged: User @requiresScopes(scopes: [["watch"]])  anyChange: User }
type User @key(fields: "id") { id: ID!  name: String!  email: String @requiresScopes(scopes: [["email"]])  ssn: String! @policy(policies: [["hr"]]) }
type Team { name: String  members: [User!]  lead: User! }
type Strict { value: String! @requiresScopes(scopes: [["x"]]) }
interface Node { id: ID! }
type Doc implements Node @key(fields: "id") @requiresScopes(scopes: [["docs"]]) { id: ID!  title: String }
type Note implements Node { id: ID!  text: String }
union SearchResult = Doc | Note
enum Level @authenticated { LOW HIGH }
scalar Code @requiresScopes(scopes: [["codes"]])
`;
const SCORES = `${LINK}
type User @key(fields: "id") { id: ID!  score: Int @requiresScopes(scopes: [["score"]]) }
`;

function supergraphOf(subgraphs: Record<string, string>): string {
  const composed = composeServices(Object.entries(subgraphs).map(([name, sdl]) => ({ name, url: `http://${name}.test/graphql`, typeDefs: parse(sdl) })));
  if (!composed.supergraphSdl) throw new Error(composed.errors?.map((e) => e.message).join('\n'));
  return composed.supergraphSdl;
}

const SUPERGRAPH = supergraphOf({ people: PEOPLE, scores: SCORES });
const snapshot: GraphSnapshot = graphFromSupergraphSdl(SUPERGRAPH).current();
const POLICIES = parsePolicyRules({ hr: { customer: false, anyScope: ['hr:read'] } }, 'test policies');

const ada = { __typename: 'User', id: 'u1', name: 'Ada', email: 'ada@example.com', ssn: '111', score: 7 };
const bob = { __typename: 'User', id: 'u2', name: 'Bob', email: 'bob@example.com', ssn: '222', score: 3 };
const ROOT = {
  public: 'hello',
  me: ada,
  secret: 's3cret',
  users: [ada, bob],
  maybeUsers: [ada, null, bob],
  team: { name: 'core', members: [ada, bob], lead: bob },
  strict: { value: 'v' },
  node: { __typename: 'Doc', id: 'd1', title: 'Plan' },
  search: [{ __typename: 'Doc', id: 'd1', title: 'Plan' }, { __typename: 'Note', id: 'n1', text: 'hi' }],
  level: 'HIGH',
  code: 'C-1',
  promote: ada,
  rename: bob,
};

function caller(scopes: string[], customerId?: string): Identity {
  return { subject: 'tester', scopes, ...(customerId ? { customerId } : {}) };
}

let documents = 0;
function decide(authorizer: Authorizer, query: string, identity: Identity, operationName?: string): { decision: AuthorizationDecision; document: ReturnType<typeof parse> } {
  const document = parse(query);
  // A fresh key per parse: these tests compare decisions, not the cache.
  return { decision: authorizer.decide({ supergraphSchema: snapshot.supergraphSchema, document, operationName, documentKey: `t${documents++}:${query}`, identity }), document };
}

/** graphql-js over ROOT, with the removed fields failing as the gateway reports them. */
function reference(document: ReturnType<typeof parse>, filtered: FilteredOperation, variables?: Record<string, unknown>): ExecutionResult {
  const fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
    if (info.fieldNodes.some((node) => filtered.removedFields.has(node))) throw unauthorizedError(`${info.parentType.name}.${info.fieldName}`);
    return defaultFieldResolver(source, args, context, info);
  };
  return execute({ schema: snapshot.apiSchema, document, rootValue: ROOT, variableValues: variables, fieldResolver }) as ExecutionResult;
}

function filteredAnswer(decision: AuthorizationDecision, variables?: Record<string, unknown>): ExecutionResult {
  if (decision.kind !== 'filtered') throw new Error(`expected a filtered decision, got ${decision.kind}`);
  const result = execute({ schema: snapshot.apiSchema, document: decision.document, rootValue: ROOT, variableValues: variables }) as ExecutionResult;
  expect(result.errors).toBeUndefined();
  return restoreRemovedFields({ data: result.data as Record<string, unknown>, errors: result.errors as GraphQLError[] | undefined }, decision.filtered) as ExecutionResult;
}

const errorsOf = (result: ExecutionResult) => (result.errors ?? []).map((e) => ({ path: e.path, code: e.extensions?.code })).sort((a, b) => JSON.stringify(a.path).localeCompare(JSON.stringify(b.path)));

const filter = new Authorizer({ mode: 'filter', policies: POLICIES });
/** Removed locations in list items after the first one that nulled its list (graphql-js reports only that one). */
const siblingsOfNulledItems: Record<string, number> = { '{ public team { name members { id ssn } } }': 1, '{ public users { id ssn } }': 1 };

describe('filtered operations answer as graphql-js would with the removed fields failing', () => {
  test.each<[string, string, Identity, Record<string, unknown>]>(([
    ['a field needing scopes (OR of AND-lists), in its key order', '{ public secret me { id name } }', caller(['a:read'])],
    ['unauthenticated callers fail @authenticated', '{ public me { id } }', ANONYMOUS],
    ['a field inside a list: one error per item, indices in the path', '{ users { email id name } }', caller([])],
    ['a non-null field nulls its nullable list item', '{ maybeUsers { id ssn } }', caller(['hr:read'], 'cust-1')],
    ['a non-null field nulls up to a nullable field across non-null items', '{ public team { name members { id ssn } } }', caller([])],
    ['a non-null field in non-null lists nulls data', '{ public users { id ssn } }', caller([])],
    ['a selection left empty removes its parent; non-null up to data', '{ public strict { value } }', caller([])],
    ['aliases and repeated keys', '{ a: users { mail: email n: name } b: me { email } }', caller(['a:read'])],
    ['a type-level directive on the returned object type (through an interface)', '{ node { __typename id ... on Note { text } ... on Doc { title } } }', caller([])],
    ['a fragment on a type that needs a scope, inside a list of a union', '{ search { __typename ... on Doc { title } ... on Note { text } } }', caller([])],
    ['named fragments used at two places', 'query Q { me { ...U } team { lead { ...U } } } fragment U on User { name email }', caller([])],
    ['enums and scalars with type-level directives', '{ public level code }', ANONYMOUS],
    ['a field another subgraph contributes to an entity', '{ users { id score } }', caller(['email'])],
    ['@skip/@include are kept on what was removed', 'query($s: Boolean!) { users { email @skip(if: $s) name } me @include(if: $s) { email } }', caller([]), { s: true }],
    ['the same with the other value', 'query($s: Boolean!) { users { email @skip(if: $s) name } me @include(if: $s) { email } }', caller([]), { s: false }],
    ['mutations', 'mutation { promote(id: "u1") { id } rename(id: "u2") { id email } }', caller([])],
    ['every root field removed', '{ secret level }', ANONYMOUS],
  ] as [string, string, Identity, Record<string, unknown>?][]).map(([label, query, identity, variables]) => [label, query, identity, variables ?? {}]))('%s', (_label, query, identity, variables) => {
    const { decision, document } = decide(filter, query, identity);
    const answer = filteredAnswer(decision, variables);
    if (decision.kind !== 'filtered') return;
    const expected = reference(document, decision.filtered, variables);
    expect(JSON.stringify(answer.data)).toBe(JSON.stringify(expected.data));
    // graphql-js stops completing a list at its first item that nulls it; the gateway names every removed location.
    expect(errorsOf(answer)).toEqual(expect.arrayContaining(errorsOf(expected)));
    expect(errorsOf(answer).length).toBe(errorsOf(expected).length + (siblingsOfNulledItems[query] ?? 0));
    expect(errorsOf(answer).length).toBeGreaterThan(0);
    expect(errorsOf(answer).every((e) => e.code === 'UNAUTHORIZED_FIELD_OR_TYPE')).toBe(true);
  });

  test('concrete answers: paths inside lists and nulls', () => {
    const { decision } = decide(filter, '{ users { id email } strictList: maybeUsers { id ssn } }', caller([]));
    const answer = filteredAnswer(decision);
    expect(answer.data).toEqual({ users: [{ id: 'u1', email: null }, { id: 'u2', email: null }], strictList: [null, null, null] });
    expect(errorsOf(answer).map((e) => e.path)).toEqual([['strictList', 0, 'ssn'], ['strictList', 2, 'ssn'], ['users', 0, 'email'], ['users', 1, 'email']]);
    // Every selection of a field removed: the field itself comes back null, with one error.
    const { decision: emptied } = decide(filter, '{ public maybeUsers { ssn } }', caller([]));
    expect(filteredAnswer(emptied).data).toEqual({ public: 'hello', maybeUsers: null });
  });

  test('the removed fields leave the rewritten document, which gets a text and hash of its own', () => {
    const { decision } = decide(filter, '{ public me { id } secret }', caller([]));
    if (decision.kind !== 'filtered') throw new Error('expected filtered');
    expect(decision.source).not.toContain('secret');
    expect(decision.queryHash).toMatch(/^[0-9a-f]{64}$/);
    // A variable only a removed field used is dropped (an unused variable makes a document invalid); one its @include uses stays.
    const { decision: mutation } = decide(filter, 'mutation($id: ID!) { rename(id: "u2") { id } promote(id: $id) { id } }', caller([]));
    if (mutation.kind !== 'filtered') throw new Error('expected filtered');
    expect(print(mutation.document)).not.toContain('$id');
    const { decision: included } = decide(filter, 'query($s: Boolean!) { public users { id email @include(if: $s) } }', ANONYMOUS);
    if (included.kind !== 'filtered') throw new Error('expected filtered');
    expect(print(included.document)).toContain('@include(if: $s)');
  });
});

describe('what is allowed, refused and cached', () => {
  test('a caller holding everything runs the operation unchanged', () => {
    const everything = caller(['a:read', 'b:read', 'email', 'x', 'docs', 'codes', 'score', 'hr:read']);
    expect(decide(filter, '{ public secret me { email ssn score } strict { value } level code node { id ... on Doc { title } } }', everything).decision.kind).toBe('allowed');
  });

  test('@requiresScopes is an OR of AND-lists', () => {
    expect(decide(filter, '{ secret }', caller(['a:read', 'b:read'])).decision.kind).toBe('allowed');
    expect(decide(filter, '{ secret }', caller(['admin'])).decision.kind).toBe('allowed');
    expect(decide(filter, '{ secret }', caller(['a:read'])).decision.kind).toBe('filtered');
  });

  test('policies come from the rules: hr needs staff with hr:read', () => {
    expect(decide(filter, '{ me { ssn } }', caller(['hr:read'])).decision.kind).toBe('allowed');
    expect(decide(filter, '{ me { ssn } }', caller(['hr:read'], 'cust-1')).decision.kind).toBe('filtered');
    expect(decide(filter, '{ me { ssn } }', caller([])).decision.kind).toBe('filtered');
  });

  test('__typename is always allowed', () => {
    expect(decide(filter, '{ search { __typename } team { __typename } }', ANONYMOUS).decision.kind).toBe('allowed');
    // Composition copies an implementation's type-level requirement onto its interface: Node needs docs.
    expect(decide(filter, '{ node { __typename } }', ANONYMOUS).decision.kind).toBe('filtered');
  });

  test('reject mode refuses the whole operation, naming each removed path', () => {
    const reject = new Authorizer({ mode: 'reject', policies: POLICIES });
    const { decision } = decide(reject, '{ public users { id email } secret }', caller([]));
    expect(decision.kind).toBe('refused');
    if (decision.kind !== 'refused') return;
    expect(decision.errors.map((e) => [e.path, e.extensions.code])).toEqual([
      [['users', 'email'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
      [['secret'], 'UNAUTHORIZED_FIELD_OR_TYPE'],
    ]);
    expect(decide(reject, '{ public }', caller([])).decision.kind).toBe('allowed');
  });

  test('a repeat of a document by a caller with the same grants is the same decision', () => {
    const authorizer = new Authorizer({ mode: 'filter', policies: POLICIES });
    const ask = (identity: Identity) => authorizer.decide({ supergraphSchema: snapshot.supergraphSchema, document: parse('{ users { email } }'), documentKey: 'same', identity });
    const first = ask(caller(['a:read']));
    expect(ask(caller(['a:read']))).toBe(first);
    expect(ask(caller(['email']))).not.toBe(first);
    expect(ask(caller(['email'])).kind).toBe('allowed');
  });
});

describe('subscriptions', () => {
  const authorize = (identity: Identity, query: string) => subscriptionAuthorization(filter, identity)(snapshot, parse(query), undefined, query);

  test('a subscription whose root field is unauthorized is refused', () => {
    const refused = authorize(caller([]), 'subscription { userChanged { id } }');
    expect(Array.isArray(refused) && refused.map((e) => [e.path, e.extensions.code])).toEqual([[['userChanged'], 'UNAUTHORIZED_FIELD_OR_TYPE']]);
  });

  test('fields removed inside a subscription come back null with an error in each event', () => {
    const authorized = authorize(caller([]), 'subscription { anyChange { id email } }');
    if (Array.isArray(authorized)) throw new Error('refused');
    expect(print(authorized.document)).not.toContain('email');
    const event = execute({ schema: snapshot.apiSchema, document: authorized.document, rootValue: { anyChange: ada } }) as ExecutionResult;
    const restored = authorized.restore!(event);
    expect(restored.data).toEqual({ anyChange: { id: 'u1', email: null } });
    expect(restored.errors?.map((e) => e.path)).toEqual([['anyChange', 'email']]);
  });

  test('an authorized subscription keeps its document', () => {
    const document = parse('subscription { userChanged { id } }');
    const authorized = subscriptionAuthorization(filter, caller(['watch']))(snapshot, document, undefined, 'x');
    expect(!Array.isArray(authorized) && authorized.document).toBe(document);
  });
});

describe('the supergraph the gateway loads', () => {
  test('@apollo/gateway refuses the SECURITY links, and loads them once the gateway says it enforces them', async () => {
    await expect(new ApolloGateway({ supergraphSdl: SUPERGRAPH }).load()).rejects.toThrow(/is for: SECURITY but is unsupported/);
    const gateway = new ApolloGateway({ supergraphSdl: withEnforcedSecurityFeatures(SUPERGRAPH) });
    await expect(gateway.load()).resolves.toBeDefined();
    await gateway.stop();
    // Only the three enforced links lose their purpose.
    expect(withEnforcedSecurityFeatures(SUPERGRAPH)).toContain('@link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)');
    expect(withEnforcedSecurityFeatures(SUPERGRAPH)).not.toContain('requiresScopes/v0.1", for: SECURITY');
  });
});

describe('policy files', () => {
  test.each<[string, unknown, RegExp]>([
    ['not an object', ['staff'], /must be a JSON object/],
    ['an unknown key', { staff: { customers: false } }, /policy "staff" has unknown key "customers"/],
    ['a wrong type', { staff: { customer: 'no' } }, /staff.*customer must be true or false/],
    ['an empty scope list', { ops: { anyScope: [] } }, /anyScope must be a non-empty list/],
    ['a bad nested rule', { ops: { anyOf: [{ allScopes: [1] }] } }, /anyOf\[0\]\.allScopes/],
  ])('refuses %s', (_label, json, message) => {
    expect(() => parsePolicyRules(json, 'policies.json')).toThrow(message);
  });

  test('rules hold over scopes and customer tokens; the committed file is valid', () => {
    const rules = parsePolicyRules({ ops: { customer: false, anyOf: [{ anyScope: ['ops:admin'] }, { allScopes: ['risk:review', 'payments:read'] }] } }, 'x');
    expect(ruleHolds(rules.ops, caller(['ops:admin']))).toBe(true);
    expect(ruleHolds(rules.ops, caller(['risk:review']))).toBe(false);
    expect(ruleHolds(rules.ops, caller(['risk:review', 'payments:read']))).toBe(true);
    expect(ruleHolds(rules.ops, caller(['ops:admin'], 'cust-1'))).toBe(false);
    const committed = parsePolicyRules(require('./policies.json'), 'policies.json');
    expect(Object.keys(committed).length).toBeGreaterThan(0);
  });
});
