import { buildOperationContext } from '@apollo/gateway';
import { operationFromDocument } from '@apollo/federation-internals';
import type { FetchNode, PlanNode, SubscriptionNode } from '@apollo/query-planner';
import {
  astFromValue,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  print,
  specifiedRules,
  typeFromAST,
  validate,
  visit,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLInputType,
  type OperationDefinitionNode,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { LRUCache } from 'lru-cache';
import { ErrorCode, PaygraphError } from '../../runtime/errors';
import type { SubscriptionCostCheck } from '../demand-control';
import type { GraphSnapshot } from './graph';
import type { SubscriptionAuthorization } from '../authorization/subscriptions';

type OperationContext = ReturnType<typeof buildOperationContext>;

/** A client's subscription, validated and planned: what runs upstream and what resolves each event. */
export interface PreparedSubscription {
  readonly snapshot: GraphSnapshot;
  readonly document: DocumentNode;
  /** The client's document, printed: with the variables it identifies one resolution of an event. */
  readonly documentText: string;
  readonly operationName?: string;
  /** The client's variables after coercion (defaults applied). */
  readonly variables: Record<string, unknown>;
  readonly operationContext: OperationContext;
  /** The root field, e.g. `paymentStatusChanged`. */
  readonly rootField: string;
  /** The subgraph that owns the root field. */
  readonly subgraph: string;
  /** The primary fetch as the planner made it; its data is the start of every event. */
  readonly primary: FetchNode;
  /** What else each event needs from other subgraphs (entity fetches), if anything. */
  readonly rest?: PlanNode;
  /**
   * The subscription sent to the owning subgraph, arguments written inline and without an
   * operation name, so equal root fields with equal arguments and selections print the same.
   */
  readonly upstreamQuery: string;
  /**
   * True when the root field resumes from a cursor (`after` set): such an upstream replays
   * history first, so a later client may join it only before its first event.
   */
  readonly replaysHistory: boolean;
  /** Puts each resolved event back in the client's shape when authorization removed fields (gateway/authorization). */
  readonly restore?: (result: ExecutionResult) => ExecutionResult;
  /** The document as the client sent it, before authorization removed anything (usage reporting records what clients ask for). */
  readonly requestedDocument: DocumentNode;
}

function error(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

const planCache = new WeakMap<GraphSnapshot, LRUCache<string, SubscriptionNode>>();
const PLAN_CACHE_SIZE = 500;

function planFor(snapshot: GraphSnapshot, document: DocumentNode, documentText: string, operationName?: string): SubscriptionNode {
  let cache = planCache.get(snapshot);
  if (!cache) planCache.set(snapshot, (cache = new LRUCache({ max: PLAN_CACHE_SIZE })));
  const key = `${operationName ?? ''}\n${documentText}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const plan = snapshot.planner.buildQueryPlan(operationFromDocument(snapshot.apiSchemaInternal, document, { operationName }));
  if (plan.node?.kind !== 'Subscription') throw new Error(`expected a subscription plan, got ${plan.node?.kind ?? 'an empty plan'}`);
  cache.set(key, plan.node);
  return plan.node;
}

/** The primary fetch with its variables written inline and its operation name dropped. */
function canonicalUpstreamQuery(snapshot: GraphSnapshot, primary: FetchNode, variables: Record<string, unknown>): string {
  const document = primary.operationDocumentNode ?? parse(primary.operation);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) throw new Error('primary fetch without an operation');
  const literals = new Map<string, ValueNode>();
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(snapshot.supergraphSchema, definition.type as never) as GraphQLInputType | undefined;
    const literal = type ? astFromValue(variables[name] ?? null, type) : undefined;
    if (!literal) throw new Error(`cannot write variable $${name} inline`);
    literals.set(name, literal);
  }
  const inlined = visit(document, {
    OperationDefinition: (node) => ({ ...node, name: undefined, variableDefinitions: [] }),
    Variable: (node) => literals.get(node.name.value) ?? node,
  });
  return print(inlined);
}

function argumentIsSet(operation: OperationDefinitionNode, argument: string, variables: Record<string, unknown>): boolean {
  const field = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  const node = field?.kind === Kind.FIELD ? field.arguments?.find((a) => a.name.value === argument) : undefined;
  if (!node) return false;
  if (node.value.kind === Kind.VARIABLE) return variables[node.value.name.value] != null;
  return node.value.kind !== Kind.NULL;
}

/** The same document limits as the HTTP path (gateway/limits.ts). */
export interface DocumentLimits {
  maxTokens: number;
  /** graphql-armor's rules; they report OPERATION_NOT_ALLOWED. */
  validationRules: readonly ValidationRule[];
  /** Demand control's estimated-cost check, the HTTP path's own (gateway/demand-control): an error refuses the subscription. */
  checkCost?: SubscriptionCostCheck;
}

/**
 * Validates a client's subscription against the API schema and the request limits, and plans
 * it. Returns the errors to send back (graphql-ws `error` message) when it may not run.
 */
export function prepareSubscription(
  snapshot: GraphSnapshot,
  request: { query: string; operationName?: string | null; variables?: Record<string, unknown> | null },
  limits?: DocumentLimits,
  authorize?: SubscriptionAuthorization,
): PreparedSubscription | GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parse(request.query, { maxTokens: limits?.maxTokens ?? 10_000 });
  } catch (e) {
    return [e instanceof GraphQLError ? error(ErrorCode.BAD_USER_INPUT, e.message) : error(ErrorCode.BAD_USER_INPUT, 'unparsable document')];
  }
  const validationErrors = validate(snapshot.apiSchema, document, [...specifiedRules, ...(limits?.validationRules ?? [])]);
  if (validationErrors.length > 0) {
    return validationErrors.map((e) => (e instanceof PaygraphError ? error(e.code, e.message) : error(ErrorCode.BAD_USER_INPUT, e.message)));
  }
  const operationName = request.operationName ?? undefined;
  let operation = getOperationAST(document, operationName);
  if (!operation) return [error(ErrorCode.BAD_USER_INPUT, 'unable to identify the operation')];
  if (operation.operation !== 'subscription') {
    return [error(ErrorCode.OPERATION_NOT_ALLOWED, `${operation.operation} operations go over HTTP (/graphql); this endpoint serves subscriptions`)];
  }
  const requestedDocument = document;
  // Authorization first, as on HTTP: everything below sees only what the caller may run.
  const authorized = authorize?.(snapshot, document, operationName, request.query);
  if (Array.isArray(authorized)) return authorized;
  if (authorized && authorized.document !== document) {
    document = authorized.document;
    operation = getOperationAST(document, operationName) ?? operation;
  }
  const coerced = getVariableValues(snapshot.apiSchema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 10 });
  if (coerced.errors) return coerced.errors.map((e) => error(ErrorCode.BAD_USER_INPUT, e.message));
  const variables = coerced.coerced;

  const documentText = print(document);
  const tooCostly = limits?.checkCost?.(snapshot, { document, documentText, operationName, variables: request.variables });
  if (tooCostly) return [tooCostly];
  const plan = planFor(snapshot, document, documentText, operationName);
  const primary = plan.primary;
  const rootSelection = operation.selectionSet.selections[0];
  const rootField = rootSelection.kind === Kind.FIELD ? rootSelection.name.value : '';
  return {
    snapshot,
    document,
    documentText,
    operationName,
    variables,
    operationContext: buildOperationContext({ schema: snapshot.apiSchema, operationDocument: document, operationName }),
    rootField,
    subgraph: primary.serviceName,
    primary,
    rest: plan.rest,
    upstreamQuery: canonicalUpstreamQuery(snapshot, primary, variables),
    replaysHistory: argumentIsSet(operation, 'after', variables),
    restore: authorized?.restore,
    requestedDocument,
  };
}
