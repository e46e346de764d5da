import { getOperationAST, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { LRUCache } from 'lru-cache';
import { ErrorCode, PaygraphError } from '../../runtime/errors';
import { actualCost } from './actual-cost';
import type { Variables } from './arguments';
import { planOperationCost, type OperationCostPlan } from './cost-plan';
import { estimatedCost } from './estimated-cost';
import { SlicingArgumentError } from './list-size';
import type { DemandControlConfig } from './settings';

/** One operation to cost, as the HTTP step and the subscription path both have it. */
export interface CostRequest {
  /** The API schema the document was validated against. */
  readonly schema: GraphQLSchema;
  /** The supergraph that API schema was made from: its @cost and @listSize. */
  readonly supergraph: GraphQLSchema;
  /** Identifies the document's text (its hash, or the text): plans are cached by it. */
  readonly documentKey: string;
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  /** The variables as the client sent them. */
  readonly variables?: Readonly<Record<string, unknown>> | null;
}

export interface CostAssessment {
  readonly plan: OperationCostPlan;
  /** The variables after coercion (defaults applied). */
  readonly variables: Variables;
  readonly estimated: number;
  /** Why the operation may not run (in enforce mode it is refused with this; in measure mode it is logged); undefined when it may. */
  readonly refusal?: PaygraphError;
}

interface CachedPlan {
  readonly plan: OperationCostPlan;
  /** The estimate of a plan no variable reaches, once known: the same for every request. */
  fixed?: { readonly estimated: number; readonly slicing?: SlicingArgumentError };
}

const DOCUMENTS_PER_SCHEMA = 1000;

/**
 * Demand control's one judgement of an operation, for every front (HTTP requests on both of
 * their paths, graphql-ws subscriptions): its estimated cost against MAX_COST and the
 * `@listSize` slicing rule. The per-document work is cached by API schema and document, so
 * a request only applies its variables.
 */
export class OperationCosts {
  private readonly plans = new WeakMap<GraphQLSchema, LRUCache<string, CachedPlan>>();

  constructor(readonly settings: DemandControlConfig) {}

  /** Undefined when the variables do not coerce: execution refuses the request with the reason. */
  assess(request: CostRequest): CostAssessment | undefined {
    const cached = this.planFor(request);
    if (!cached) return undefined;
    const { plan } = cached;
    // No variable reaches this plan: its estimate is known, and its actual cost needs none either.
    if (cached.fixed) return { plan, variables: {}, estimated: cached.fixed.estimated, refusal: this.refusal(cached.fixed.estimated, cached.fixed.slicing) };
    const operation = getOperationAST(request.document, request.operationName);
    const coerced = getVariableValues(request.schema, operation?.variableDefinitions ?? [], (request.variables ?? {}) as Record<string, unknown>, { maxErrors: 1 });
    if (coerced.errors) return undefined;
    const variables = coerced.coerced;
    const { estimated, slicing } = this.estimate(plan, variables);
    if (!plan.readsVariables) cached.fixed = { estimated, slicing };
    return { plan, variables, estimated, refusal: this.refusal(estimated, slicing) };
  }

  /** The cost of what the operation returned (actual-cost.ts). */
  actual(assessment: CostAssessment, data: unknown): number {
    return actualCost(assessment.plan, data, assessment.variables);
  }

  private estimate(plan: OperationCostPlan, variables: Variables): { estimated: number; slicing?: SlicingArgumentError } {
    const listSize = this.settings.defaultListSize;
    try {
      return { estimated: estimatedCost(plan, variables, listSize) };
    } catch (error) {
      if (!(error instanceof SlicingArgumentError)) throw error;
      // Still an estimate to report (measure mode lets it run): the missing argument taken as assumedSize.
      return { estimated: estimatedCost(plan, variables, listSize, { requireSlicingArguments: false }), slicing: error };
    }
  }

  private refusal(estimated: number, slicing: SlicingArgumentError | undefined): PaygraphError | undefined {
    const { maxCost } = this.settings;
    if (slicing) return new PaygraphError(ErrorCode.BAD_USER_INPUT, slicing.message, { field: slicing.coordinate, slicingArguments: slicing.slicingArguments });
    if (estimated > maxCost) {
      return new PaygraphError(ErrorCode.OPERATION_NOT_ALLOWED, `the operation is too costly: its estimated cost ${estimated} is over the limit of ${maxCost}`, { estimatedCost: estimated, maxCost });
    }
    return undefined;
  }

  private planFor(request: CostRequest): CachedPlan | undefined {
    let plans = this.plans.get(request.schema);
    if (!plans) this.plans.set(request.schema, (plans = new LRUCache({ max: DOCUMENTS_PER_SCHEMA })));
    const key = `${request.operationName ?? ''}\n${request.documentKey}`;
    let cached = plans.get(key);
    if (!cached) {
      const operation = getOperationAST(request.document, request.operationName);
      if (!operation) return undefined;
      cached = { plan: planOperationCost(request.schema, request.supergraph, request.document, operation) };
      plans.set(key, cached);
    }
    return cached;
  }
}
