import { argumentsCost, type Variables } from './arguments';
import type { FieldPlan, OperationCostPlan, SelectionPlan, TypeVariant } from './cost-plan';

type Data = Record<string, unknown>;

/**
 * The cost of what an operation returned, by the estimate's rules with the real list lengths:
 * each object costs its weight plus its fields, each scalar its weight, a null only a declared
 * `@cost` (the resolver ran); a field's arguments count once. A field absent from the result
 * (skipped, or cut off by an error) costs nothing.
 */
class Measurer {
  constructor(
    private readonly plan: OperationCostPlan,
    private readonly variables: Variables,
  ) {}

  selection(selection: SelectionPlan, data: Data): number {
    const variants = this.variantsOf(selection, data);
    let most = 0;
    for (const variant of variants) {
      let cost = 0;
      for (const field of variant.fields) {
        if (Object.hasOwn(data, field.responseKey)) cost += this.value(field, data[field.responseKey]) + argumentsCost(field, this.variables, this.plan.directives);
      }
      most = Math.max(most, cost);
    }
    return most;
  }

  /** The object's own type when it says (`__typename`), else every type it may be (the costliest wins). */
  private variantsOf(selection: SelectionPlan, data: Data): readonly TypeVariant[] {
    if (selection.variants.length < 2 || typeof data.__typename !== 'string') return selection.variants;
    const own = selection.variants.find((v) => v.typeName === data.__typename);
    return own ? [own] : selection.variants;
  }

  private value(field: FieldPlan, value: unknown): number {
    if (value === null || value === undefined) return field.weighted ? field.weight : 0;
    if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + this.value(field, item), 0);
    if (typeof value === 'object' && field.selection) return field.weight + this.selection(field.selection, value as Data);
    return field.weight;
  }
}

/** The actual cost of an operation's result data (undefined data: nothing ran but the base cost). */
export function actualCost(plan: OperationCostPlan, data: unknown, variables: Variables): number {
  const root = data !== null && typeof data === 'object' ? new Measurer(plan, variables).selection(plan.root, data as Data) : 0;
  return plan.baseCost + root;
}
