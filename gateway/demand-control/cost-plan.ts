import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isCompositeType,
  isListType,
  Kind,
  type ArgumentNode,
  type DirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { CostDirectives, type ListSize } from './cost-directives';

/**
 * A document's cost, worked out once against one schema: every field the operation can
 * return, with its weight and list sizing, merged by response key as GraphQL execution
 * merges them. Only variables are left to apply, per request (estimated-cost.ts), or a
 * result to measure (actual-cost.ts).
 */
export interface OperationCostPlan {
  readonly operationType: 'query' | 'mutation' | 'subscription';
  /** Apollo's base cost of the operation type: mutations 10, queries and subscriptions 0. */
  readonly baseCost: number;
  readonly root: SelectionPlan;
  /** False when no variable reaches an argument or @skip/@include: the estimate is then the same for every request. */
  readonly readsVariables: boolean;
  /** The supergraph's weights, for input values known only per request. */
  readonly directives: CostDirectives;
}

/** `@skip(if: $v)` / `@include(if: $v)`: the field is there when `variables[variable] === include`. */
export interface Condition {
  readonly variable: string;
  readonly include: boolean;
}

/** A selection on a composite type: one variant per concrete type the object can have. */
export interface SelectionPlan {
  readonly variants: readonly TypeVariant[];
}

export interface TypeVariant {
  readonly typeName: string;
  readonly fields: readonly FieldPlan[];
}

export interface ArgumentPlan {
  readonly definition: GraphQLArgument;
  /** As written in the document (a literal or a variable). */
  readonly node: ArgumentNode['value'];
  /** `@cost` of the argument, else of its scalar or enum type. */
  readonly weight?: number;
}

export interface FieldPlan {
  readonly responseKey: string;
  readonly fieldName: string;
  /** Field coordinate for messages, e.g. `Query.payments`. */
  readonly coordinate: string;
  /**
   * The field is selected when every condition of at least one of these holds; undefined when
   * one of its selections has no variable condition (always selected).
   */
  readonly conditions?: readonly (readonly Condition[])[];
  /** Cost of one instance: `@cost` of the field, else of its type, else 1 for objects, interfaces and unions, 0 for scalars and enums. */
  readonly weight: number;
  /** True when the weight comes from a `@cost` (a null value still costs it). */
  readonly weighted: boolean;
  readonly list: boolean;
  readonly listSize?: ListSize;
  /** The arguments the document gives (their cost), by name. */
  readonly arguments: ReadonlyMap<string, ArgumentPlan>;
  /** Every argument definition, for slicing arguments left to their defaults. */
  readonly argumentDefinitions: readonly GraphQLArgument[];
  readonly selection?: SelectionPlan;
}

interface Occurrence {
  readonly selectionSet: SelectionSetNode;
  readonly conditions: readonly Condition[];
}

/** The field's conditions from @skip/@include: false when a literal excludes it. */
function conditionsOf(directives: readonly DirectiveNode[] | undefined, inherited: readonly Condition[]): readonly Condition[] | false {
  let conditions = inherited;
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const value = directive.arguments?.find((a) => a.name.value === 'if')?.value;
    const include = name === 'include';
    if (value?.kind === Kind.BOOLEAN) {
      if (value.value !== include) return false;
    } else if (value?.kind === Kind.VARIABLE) {
      conditions = [...conditions, { variable: value.name.value, include }];
    }
  }
  return conditions;
}

function hasVariable(node: ArgumentNode['value']): boolean {
  switch (node.kind) {
    case Kind.VARIABLE:
      return true;
    case Kind.LIST:
      return node.values.some(hasVariable);
    case Kind.OBJECT:
      return node.fields.some((f) => hasVariable(f.value));
    default:
      return false;
  }
}

/** Compiles documents against one API schema and the cost directives of its supergraph. */
class PlanCompiler {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly selectionIds = new Map<SelectionSetNode, number>();
  // Fields shared by several concrete types (an interface's own fields) compile once.
  private readonly compiled = new Map<string, SelectionPlan>();
  readsVariables = false;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly directives: CostDirectives,
    document: DocumentNode,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  selection(occurrences: readonly Occurrence[], parent: GraphQLCompositeType): SelectionPlan {
    const key = `${parent.name}|${occurrences.map((o) => `${this.idOf(o.selectionSet)}:${o.conditions.map((c) => `${c.include ? '+' : '-'}${c.variable}`).join(',')}`).join(';')}`;
    let plan = this.compiled.get(key);
    if (!plan) {
      const types = isAbstractType(parent) ? this.schema.getPossibleTypes(parent) : [parent as GraphQLObjectType];
      plan = { variants: types.map((type) => ({ typeName: type.name, fields: this.fieldsOf(occurrences, type) })) };
      this.compiled.set(key, plan);
    }
    return plan;
  }

  private idOf(selectionSet: SelectionSetNode): number {
    let id = this.selectionIds.get(selectionSet);
    if (id === undefined) this.selectionIds.set(selectionSet, (id = this.selectionIds.size));
    return id;
  }

  /** The fields an object of `type` gets from these selections, merged by response key (CollectFields). */
  private fieldsOf(occurrences: readonly Occurrence[], type: GraphQLObjectType): FieldPlan[] {
    const byKey = new Map<string, { fieldName: string; arguments: readonly ArgumentNode[]; conditions: (readonly Condition[])[]; children: Occurrence[] }>();
    const collect = (selectionSet: SelectionSetNode, inherited: readonly Condition[]): void => {
      for (const selection of selectionSet.selections) {
        const conditions = conditionsOf(selection.directives, inherited);
        if (conditions === false) continue;
        if (conditions.length > 0) this.readsVariables = true;
        if (selection.kind === Kind.FIELD) {
          const fieldName = selection.name.value;
          if (fieldName.startsWith('__')) continue; // __typename and introspection cost nothing
          const responseKey = selection.alias?.value ?? fieldName;
          let entry = byKey.get(responseKey);
          if (!entry) byKey.set(responseKey, (entry = { fieldName, arguments: selection.arguments ?? [], conditions: [], children: [] }));
          entry.conditions.push(conditions);
          // Its sub-selections are there only when this selection of it is.
          if (selection.selectionSet) entry.children.push({ selectionSet: selection.selectionSet, conditions });
          continue;
        }
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? this.fragments.get(selection.name.value) : selection;
        if (!fragment) continue;
        const condition = fragment.typeCondition?.name.value;
        if (condition === undefined || this.applies(condition, type)) collect(fragment.selectionSet, conditions);
      }
    };
    for (const occurrence of occurrences) collect(occurrence.selectionSet, occurrence.conditions);
    return [...byKey].flatMap(([responseKey, entry]) => {
      const plan = this.field(type, responseKey, entry.fieldName, entry.arguments, entry.conditions, entry.children);
      return plan ? [plan] : [];
    });
  }

  private applies(typeCondition: string, type: GraphQLObjectType): boolean {
    if (typeCondition === type.name) return true;
    const condition = this.schema.getType(typeCondition);
    return condition !== undefined && isAbstractType(condition) && this.schema.isSubType(condition, type);
  }

  private field(
    parent: GraphQLObjectType,
    responseKey: string,
    fieldName: string,
    argumentNodes: readonly ArgumentNode[],
    conditions: (readonly Condition[])[],
    children: Occurrence[],
  ): FieldPlan | undefined {
    const definition = parent.getFields()[fieldName];
    if (!definition) return undefined;
    const named = getNamedType(definition.type);
    const declared = this.directives.fieldWeight(parent.name, fieldName) ?? this.directives.typeWeight(named.name);
    const composite = isCompositeType(named);
    const listSize = this.directives.listSize(parent.name, fieldName);
    const argumentsByName = new Map<string, ArgumentPlan>();
    for (const node of argumentNodes) {
      const argument = definition.args.find((a) => a.name === node.name.value);
      if (!argument) continue;
      const weight = this.directives.argumentWeight(parent.name, fieldName, argument.name) ?? this.directives.typeWeight(getNamedType(argument.type).name);
      argumentsByName.set(argument.name, { definition: argument, node: node.value, weight });
      if (hasVariable(node.value)) this.readsVariables = true;
    }
    return {
      responseKey,
      fieldName,
      coordinate: `${parent.name}.${fieldName}`,
      conditions: conditions.some((c) => c.length === 0) ? undefined : conditions,
      weight: declared ?? (composite ? 1 : 0),
      weighted: declared !== undefined,
      list: isListType(getNullableType(definition.type)),
      listSize,
      arguments: argumentsByName,
      argumentDefinitions: definition.args,
      selection: composite && children.length > 0 ? this.selection(children, named) : undefined,
    };
  }
}

/**
 * The cost plan of one operation of a validated document. `schema` is the API schema the
 * document was validated against; `supergraph` is where composition wrote @cost and @listSize.
 */
export function planOperationCost(schema: GraphQLSchema, supergraph: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): OperationCostPlan {
  const directives = CostDirectives.of(supergraph);
  const compiler = new PlanCompiler(schema, directives, document);
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) throw new Error(`the schema has no ${operation.operation} type`);
  const root = compiler.selection([{ selectionSet: operation.selectionSet, conditions: [] }], rootType);
  return {
    operationType: operation.operation,
    baseCost: operation.operation === 'mutation' ? 10 : 0,
    root,
    readsVariables: compiler.readsVariables,
    directives,
  };
}
