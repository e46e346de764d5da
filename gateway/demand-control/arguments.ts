import { getNamedType, getNullableType, isInputObjectType, isListType, Kind, valueFromAST, type GraphQLInputType } from 'graphql';
import type { CostDirectives } from './cost-directives';
import type { FieldPlan } from './cost-plan';

export type Variables = Readonly<Record<string, unknown>>;

/** An argument's value as the resolver will see it: the document's literal or variable, else the argument's default. */
export function argumentValue(field: FieldPlan, name: string, variables: Variables): unknown {
  const given = field.arguments.get(name);
  const definition = given?.definition ?? field.argumentDefinitions.find((a) => a.name === name);
  if (!definition) return undefined;
  if (given) {
    // A variable the request left out falls back to the argument's default, as in execution.
    const missing = given.node.kind === Kind.VARIABLE && !Object.hasOwn(variables, given.node.name.value);
    if (!missing) return valueFromAST(given.node, definition.type, variables as Record<string, unknown>);
  }
  return definition.defaultValue;
}

/**
 * Apollo's argument cost: an input object costs its `@cost` (default 1) plus its fields' costs,
 * a list its `@cost` (default 0) plus each item's cost, a scalar or enum its `@cost` (default
 * 0), null nothing. `weight` is the argument's or input field's `@cost`, else its type's.
 */
function inputCost(value: unknown, type: GraphQLInputType, weight: number | undefined, directives: CostDirectives): number {
  if (value === null || value === undefined) return 0;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    const items = Array.isArray(value) ? value : [value];
    return items.reduce<number>((sum, item) => sum + inputCost(item, nullable.ofType, weight, directives), weight ?? 0);
  }
  if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    let cost = weight ?? 1;
    for (const [name, fieldValue] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[name];
      if (!field) continue;
      const fieldWeight = directives.inputFieldWeight(nullable.name, name) ?? directives.typeWeight(getNamedType(field.type).name);
      cost += inputCost(fieldValue, field.type, fieldWeight, directives);
    }
    return cost;
  }
  return weight ?? 0;
}

/** The cost of the arguments the document gives a field (each counted once per field, not per list item). */
export function argumentsCost(field: FieldPlan, variables: Variables, directives: CostDirectives): number {
  let cost = 0;
  for (const [name, argument] of field.arguments) {
    cost += inputCost(argumentValue(field, name, variables), argument.definition.type, argument.weight, directives);
  }
  return cost;
}
