import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../../runtime/logger';
import type { Front, OperationStep } from '../request-path';
import { recordCost } from './metrics';
import type { CostAssessment, OperationCosts } from './operation-costs';

export interface DemandControlStepOptions {
  costs: OperationCosts;
  /** The supergraph an API schema was made from (its @cost and @listSize). */
  supergraphOf(schema: GraphQLSchema): GraphQLSchema;
  /** The bounded operation label metrics use (OperationRecorder.label). */
  label(operationName: string | null | undefined): string;
  log: Logger;
}

/** A client asks for its operation's cost with the request extension `{ "cost": true }`. */
function asksForCost(requestContext: GatewayGraphQLRequestContext): boolean {
  return (requestContext.request.extensions as { cost?: unknown } | undefined)?.cost === true;
}

/**
 * Whether this answer is the one the client gets. The fast lane hands an answer with errors to
 * Apollo Server's pipeline, which runs the operation again: counting it here too would count it twice.
 */
function isFinal(front: Front, result: GatewayExecutionResult): boolean {
  return front === 'pipeline' || !result.errors?.length;
}

function withCost(result: GatewayExecutionResult, cost: Record<string, unknown>): GatewayExecutionResult {
  return { ...result, extensions: { ...result.extensions, cost } };
}

/**
 * Demand control around Apollo's executor: an operation whose estimated cost is over MAX_COST
 * (or that leaves out a required slicing argument) is refused before any subgraph is called,
 * or in measure mode logged and run; the actual cost is measured from the result. Both costs
 * go to the `paygraph_operation_cost` histograms, and to `extensions.cost` when asked.
 */
export function demandControlStep(options: DemandControlStepOptions): OperationStep {
  const { costs, log } = options;
  const { maxCost: limit, mode } = costs.settings;
  return {
    name: 'demand control',
    async execute(requestContext, next, front) {
      const assessment = costs.assess({
        schema: requestContext.schema,
        supergraph: options.supergraphOf(requestContext.schema),
        documentKey: requestContext.queryHash,
        document: requestContext.document,
        operationName: requestContext.operationName ?? requestContext.request.operationName,
        variables: requestContext.request.variables,
      });
      if (!assessment) return next(requestContext); // variables that do not coerce: execution says why
      const operation = options.label(requestContext.operationName ?? requestContext.request.operationName);
      const { estimated, refusal } = assessment;
      if (refusal && mode === 'enforce') {
        const refused: GatewayExecutionResult = { errors: [refusal] };
        if (isFinal(front, refused)) recordCost(operation, estimated);
        return asksForCost(requestContext) ? withCost(refused, { estimated, limit, mode }) : refused;
      }
      const result = await next(requestContext);
      if (!isFinal(front, result)) return result;
      const actual = costs.actual(assessment, result.data);
      recordCost(operation, estimated, actual);
      if (refusal) logWouldRefuse(log, operation, assessment);
      return asksForCost(requestContext) ? withCost(result, { estimated, actual, limit, mode }) : result;
    },
  };
}

/** Measure mode: what enforce mode would have refused, and why. */
export function logWouldRefuse(log: Logger, operation: string, { estimated, refusal }: CostAssessment): void {
  log.warn({ operation, estimatedCost: estimated, reason: refusal?.message, code: refusal?.code }, 'demand control (measure mode): operation would be refused');
}
