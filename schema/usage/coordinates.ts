import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

/** Adds an input type and every input or enum type reachable through its fields. */
function addInputTypes(type: GraphQLInputType, into: Set<string>): void {
  const named = getNamedType(type);
  if (into.has(named.name)) return;
  if (isInputObjectType(named)) {
    into.add(named.name);
    for (const field of Object.values(named.getFields())) addInputTypes(field.type, into);
  } else if (isEnumType(named)) {
    into.add(named.name);
  }
}

/**
 * The schema coordinates an operation uses, in the words of the breaking-change check:
 * `Type.field` and `Type.field(arg:)` for every selected field and passed argument,
 * `Input.field` and `Enum.VALUE` written as literals, and `Type` for every type the
 * operation touches (a selection's parent and result types, and the input and enum types an
 * argument can carry, since variables are not inspected). Introspection is left out.
 */
export function usageCoordinates(schema: GraphQLSchema, document: DocumentNode): string[] {
  const used = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      [Kind.FIELD]: (node) => {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field || node.name.value.startsWith('__') || parent.name.startsWith('__')) return;
        used.add(parent.name);
        used.add(`${parent.name}.${field.name}`);
        const result = getNamedType(field.type);
        used.add(result.name);
      },
      [Kind.ARGUMENT]: () => {
        const argument = typeInfo.getArgument();
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!argument || !parent || !field || field.name.startsWith('__') || parent.name.startsWith('__')) return;
        used.add(`${parent.name}.${field.name}(${argument.name}:)`);
        addInputTypes(argument.type, used);
      },
      [Kind.OBJECT_FIELD]: (node) => {
        const parent = typeInfo.getParentInputType();
        const named = parent ? getNamedType(parent) : undefined;
        if (named && isInputObjectType(named)) used.add(`${named.name}.${node.name.value}`);
      },
      [Kind.ENUM]: (node) => {
        const type = typeInfo.getInputType();
        if (type) used.add(`${getNamedType(type).name}.${node.value}`);
      },
      [Kind.VARIABLE_DEFINITION]: (node) => {
        const type = typeInfo.getInputType();
        if (type) addInputTypes(type, used);
        void node;
      },
    }),
  );
  return [...used].sort();
}
