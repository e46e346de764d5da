import { isInputObjectType, isInterfaceType, isObjectType, Kind, valueFromASTUntyped, type ConstDirectiveNode, type GraphQLField, type GraphQLSchema } from 'graphql';

/** The cost spec composition links in a supergraph that uses `@cost` or `@listSize`. */
const COST_SPEC = /^https:\/\/specs\.apollo\.dev\/cost\/v0\.\d+$/;

/** `@listSize` on a field definition (IBM cost spec, Apollo Federation 2.9). */
export interface ListSize {
  /** Size when no slicing argument gives one. */
  readonly assumedSize?: number;
  /** Arguments whose value (an Int, or a list's length) is the list's size. */
  readonly slicingArguments: readonly string[];
  /** Fields of the returned object that are the sized list (a connection's `edges`). */
  readonly sizedFields: readonly string[];
  /** Exactly one slicing argument must have a value (default true). */
  readonly requireOneSlicingArgument: boolean;
}

/** How the supergraph names the two directives: composition may rename them (`@link(as:)`, `import: [{ as }]`). */
interface DirectiveNames {
  cost: string;
  listSize: string;
}

/** The cost spec's directive names in this supergraph, or undefined when it links no cost spec. */
function directiveNames(supergraph: GraphQLSchema): DirectiveNames | undefined {
  for (const link of supergraph.astNode?.directives ?? []) {
    if (link.name.value !== 'link') continue;
    const args = Object.fromEntries((link.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
    if (typeof args.url !== 'string' || !COST_SPEC.test(args.url)) continue;
    // Core schema naming: the spec's eponymous directive is `@<as>`, others `@<as>__name` unless imported.
    const prefix = typeof args.as === 'string' ? args.as : 'cost';
    const names: DirectiveNames = { cost: prefix, listSize: `${prefix}__listSize` };
    for (const entry of Array.isArray(args.import) ? args.import : []) {
      const { name, as } = typeof entry === 'string' ? { name: entry, as: entry } : (entry as { name: string; as?: string });
      const local = (as ?? name).replace(/^@/, '');
      if (name === '@cost') names.cost = local;
      if (name === '@listSize') names.listSize = local;
    }
    return names;
  }
  return undefined;
}

function argumentOf(directive: ConstDirectiveNode, name: string): unknown {
  const node = directive.arguments?.find((a) => a.name.value === name);
  return node ? valueFromASTUntyped(node.value) : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The `@cost` weights and `@listSize` settings of one supergraph, read from its SDL once
 * (composition writes them on the supergraph's definitions, not on the API schema).
 */
export class CostDirectives {
  private static readonly bySupergraph = new WeakMap<GraphQLSchema, CostDirectives>();

  /** One reading per supergraph schema object. */
  static of(supergraph: GraphQLSchema): CostDirectives {
    let directives = CostDirectives.bySupergraph.get(supergraph);
    if (!directives) CostDirectives.bySupergraph.set(supergraph, (directives = new CostDirectives(supergraph)));
    return directives;
  }

  private readonly names?: DirectiveNames;

  private constructor(private readonly supergraph: GraphQLSchema) {
    this.names = directiveNames(supergraph);
  }

  /** `@cost` on an object, scalar or enum type. */
  typeWeight(typeName: string): number | undefined {
    return this.weight(this.supergraph.getType(typeName)?.astNode?.directives);
  }

  /** `@cost` on a field definition. */
  fieldWeight(typeName: string, fieldName: string): number | undefined {
    return this.weight(this.field(typeName, fieldName)?.astNode?.directives);
  }

  /** `@cost` on an argument definition. */
  argumentWeight(typeName: string, fieldName: string, argumentName: string): number | undefined {
    return this.weight(this.field(typeName, fieldName)?.args.find((a) => a.name === argumentName)?.astNode?.directives);
  }

  /** `@cost` on an input field definition. */
  inputFieldWeight(typeName: string, fieldName: string): number | undefined {
    const type = this.supergraph.getType(typeName);
    return isInputObjectType(type) ? this.weight(type.getFields()[fieldName]?.astNode?.directives) : undefined;
  }

  /** `@listSize` on a field definition. */
  listSize(typeName: string, fieldName: string): ListSize | undefined {
    const directive = this.find(this.field(typeName, fieldName)?.astNode?.directives, this.names?.listSize);
    if (!directive) return undefined;
    const assumedSize = argumentOf(directive, 'assumedSize');
    const requireOne = argumentOf(directive, 'requireOneSlicingArgument');
    return {
      assumedSize: typeof assumedSize === 'number' ? assumedSize : undefined,
      slicingArguments: strings(argumentOf(directive, 'slicingArguments')),
      sizedFields: strings(argumentOf(directive, 'sizedFields')),
      requireOneSlicingArgument: requireOne !== false,
    };
  }

  private field(typeName: string, fieldName: string): GraphQLField<unknown, unknown> | undefined {
    const type = this.supergraph.getType(typeName);
    return isObjectType(type) || isInterfaceType(type) ? type.getFields()[fieldName] : undefined;
  }

  private weight(directives: readonly ConstDirectiveNode[] | undefined): number | undefined {
    const directive = this.find(directives, this.names?.cost);
    const weight = directive && directive.arguments?.find((a) => a.name.value === 'weight')?.value;
    return weight?.kind === Kind.INT ? Number(weight.value) : undefined;
  }

  private find(directives: readonly ConstDirectiveNode[] | undefined, name: string | undefined): ConstDirectiveNode | undefined {
    return name ? directives?.find((d) => d.name.value === name) : undefined;
  }
}
