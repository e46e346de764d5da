import { getOperationAST, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';
import type { Logger } from '../../runtime/logger';
import type { LoadedGraph } from '../loaded-graph';
import type { OperationStep } from '../request-path';
import type { GraphSnapshot } from '../subscriptions/graph';
import { recordCost } from './metrics';
import { OperationCosts } from './operation-costs';
import type { DemandControlConfig } from './settings';
import { demandControlStep, logWouldRefuse } from './step';

export { readDemandControlConfig, DEFAULT_MAX_COST, type DemandControlConfig, type DemandControlMode } from './settings';
export { OperationCosts, type CostAssessment, type CostRequest } from './operation-costs';

/** Demand control's verdict on a subscription at subscribe time: an error refuses it. */
export type SubscriptionCostCheck = (
  snapshot: GraphSnapshot,
  request: { document: DocumentNode; documentText: string; operationName?: string; variables?: Record<string, unknown> | null },
) => GraphQLError | undefined;

export interface DemandControl {
  /** The operation step for the HTTP request path (after authorization). */
  readonly step: OperationStep;
  /** The same judgement for graphql-ws subscriptions (subscriptions/planning.ts). */
  readonly checkSubscription: SubscriptionCostCheck;
}

/**
 * The supergraph of each API schema the gateway served: ApolloGateway announces both at once,
 * and a request still running on a replaced schema keeps its own supergraph.
 */
function supergraphsOf(graph: LoadedGraph): (schema: GraphQLSchema) => GraphQLSchema {
  const paired = new WeakMap<GraphQLSchema, GraphQLSchema>();
  return (schema) => {
    const known = paired.get(schema);
    if (known) return known;
    const current = graph.current().supergraphSchema;
    if (graph.currentApiSchema() === schema) paired.set(schema, current);
    return current;
  };
}

/** Demand control (README "Demand control"): one OperationCosts behind both fronts. */
export function createDemandControl(options: { config: DemandControlConfig; graph: LoadedGraph; label(operationName: string | null | undefined): string; log: Logger }): DemandControl {
  const costs = new OperationCosts(options.config);
  const { label, log } = options;
  return {
    step: demandControlStep({ costs, supergraphOf: supergraphsOf(options.graph), label, log }),
    checkSubscription: (snapshot, request) => {
      const assessment = costs.assess({
        schema: snapshot.apiSchema,
        supergraph: snapshot.supergraphSchema,
        documentKey: request.documentText,
        document: request.document,
        operationName: request.operationName,
        variables: request.variables,
      });
      if (!assessment) return undefined; // the planner reports variables that do not coerce
      // A subscription's actual cost is per event; its estimate is recorded when it starts.
      const operation = label(request.operationName ?? getOperationAST(request.document)?.name?.value);
      recordCost(operation, assessment.estimated);
      if (!assessment.refusal) return undefined;
      if (options.config.mode === 'enforce') return assessment.refusal;
      logWouldRefuse(log, operation, assessment);
      return undefined;
    },
  };
}
