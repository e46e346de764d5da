/**
 * How the benchmark knows the `hive-router` target plans with the Rust query planner: that
 * gateway exposes a request's plan in `extensions.queryPlan` when the request carries this
 * header. The plan is recorded only by `@graphql-hive/router-runtime`'s executor, which plans
 * with the native module alone, so a plan in the answer is the Rust planner's.
 */
export const QUERY_PLAN_HEADER = 'x-bench-query-plan';

interface PlanNode {
  kind: string;
  serviceName?: string;
  node?: PlanNode;
  nodes?: PlanNode[];
}

/** The subgraphs a plan fetches from, in plan order (a fetch per entry). */
function fetches(node: PlanNode | undefined): string[] {
  if (!node) return [];
  if (node.serviceName) return [node.serviceName];
  return [...fetches(node.node), ...(node.nodes ?? []).flatMap(fetches)];
}

/** Sends one query asking for its plan; throws unless the answer carries the Rust planner's plan. */
export async function assertRustQueryPlan(url: string, body: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', [QUERY_PLAN_HEADER]: '1' }, body });
  const answer = (await response.json()) as { errors?: unknown[]; extensions?: { queryPlan?: { kind?: string; node?: PlanNode } } };
  const plan = answer.extensions?.queryPlan;
  if (plan?.kind !== 'QueryPlan') throw new Error(`${url} answered without a Rust query plan: ${JSON.stringify(answer).slice(0, 300)}`);
  if (answer.errors?.length) throw new Error(`${url} planned but answered errors: ${JSON.stringify(answer.errors).slice(0, 300)}`);
  return `a plan of ${fetches(plan.node).join(', ')}`;
}
