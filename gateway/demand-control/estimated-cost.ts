import { argumentsCost, type Variables } from './arguments';
import type { Condition, FieldPlan, OperationCostPlan, SelectionPlan } from './cost-plan';
import { expectedListSize } from './list-size';

/** A list size handed down by a parent's `@listSize(sizedFields:)` to the named child fields. */
interface SizedFields {
  readonly names: readonly string[];
  readonly size: number;
}

export function isSelected(conditions: FieldPlan['conditions'], variables: Variables): boolean {
  const holds = (condition: Condition) => (variables[condition.variable] === true) === condition.include;
  return conditions === undefined || conditions.some((all) => all.every(holds));
}

/**
 * IBM / Apollo static cost: per field, instances × (its weight + its selection's cost) + its
 * arguments' cost. Instances are 1, or for a list the size a parent's `sizedFields` gives,
 * else its own `@listSize`, else `defaultListSize`. An object of an interface or union costs
 * what its costliest possible type would.
 */
class Estimator {
  // Selections shared by several possible types are compiled once (cost-plan.ts): cost them once.
  private readonly costs = new Map<SelectionPlan, number>();

  constructor(
    private readonly plan: OperationCostPlan,
    private readonly variables: Variables,
    private readonly defaultListSize: number,
    private readonly requireSlicingArguments: boolean,
  ) {}

  selection(selection: SelectionPlan, sized?: SizedFields): number {
    const known = sized ? undefined : this.costs.get(selection);
    if (known !== undefined) return known;
    let most = 0;
    for (const variant of selection.variants) {
      let cost = 0;
      for (const field of variant.fields) cost += this.field(field, sized?.names.includes(field.fieldName) ? sized.size : undefined);
      most = Math.max(most, cost);
    }
    if (!sized) this.costs.set(selection, most);
    return most;
  }

  private field(field: FieldPlan, sizeFromParent: number | undefined): number {
    if (!isSelected(field.conditions, this.variables)) return 0;
    const expected = field.listSize && expectedListSize(field, field.listSize, this.variables, this.requireSlicingArguments);
    const instances = field.list ? (sizeFromParent ?? expected ?? this.defaultListSize) : 1;
    const sized = field.listSize?.sizedFields.length && expected !== undefined ? { names: field.listSize.sizedFields, size: expected } : undefined;
    const each = field.weight + (field.selection ? this.selection(field.selection, sized) : 0);
    return instances * each + argumentsCost(field, this.variables, this.plan.directives);
  }
}

/**
 * The estimated cost of an operation for these (coerced) variables. Throws SlicingArgumentError
 * unless `requireSlicingArguments` is false (then such a list takes its assumedSize).
 */
export function estimatedCost(plan: OperationCostPlan, variables: Variables, defaultListSize: number, { requireSlicingArguments = true } = {}): number {
  return plan.baseCost + new Estimator(plan, variables, defaultListSize, requireSlicingArguments).selection(plan.root);
}
