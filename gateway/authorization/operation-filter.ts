import {
  getOperationAST,
  isNonNullType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { isUnrestricted, type AuthorizationRules, type Requirement } from './requirements';

/**
 * What the authorization directives ask of one operation, found once per document and
 * supergraph: the requirement of every field that has one, and the type of every field (for
 * the nulls a removed field leaves). Tied to the document it analysed: rewrites start from it.
 */
export interface OperationAnalysis {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Fields with a requirement; none means every caller may run the operation as it is. */
  readonly requirements: ReadonlyMap<FieldNode, Requirement>;
  readonly fieldTypes: ReadonlyMap<FieldNode, GraphQLOutputType>;
  /** `Type.field` of each field, for error messages. */
  readonly coordinates: ReadonlyMap<FieldNode, string>;
  /** The type of the field at each response-key path (`a.b.c`); fields sharing a key share a shape (GraphQL validation). */
  readonly shapes: ReadonlyMap<string, GraphQLOutputType>;
}

/** Analyses the selected operation of a valid document against the supergraph's types. */
export function analyseOperation(schema: GraphQLSchema, rules: AuthorizationRules, document: DocumentNode, operationName?: string | null): OperationAnalysis | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const requirements = new Map<FieldNode, Requirement>();
  const fieldTypes = new Map<FieldNode, GraphQLOutputType>();
  const coordinates = new Map<FieldNode, string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: (node) => {
        const parent = typeInfo.getParentType();
        const definition = typeInfo.getFieldDef();
        if (!parent || !definition) return;
        fieldTypes.set(node, definition.type);
        coordinates.set(node, `${parent.name}.${node.name.value}`);
        const requirement = rules.ofField(parent, node.name.value);
        if (!isUnrestricted(requirement)) requirements.set(node, requirement);
      },
    }),
  );
  const shapes = new Map<string, GraphQLOutputType>();
  const collectShapes = (selectionSet: SelectionSetNode, prefix: string, seen: ReadonlySet<string>) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const type = fieldTypes.get(selection);
        const path = prefix + (selection.alias?.value ?? selection.name.value);
        if (type && !shapes.has(path)) shapes.set(path, type);
        if (selection.selectionSet) collectShapes(selection.selectionSet, `${path}.`, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collectShapes(selection.selectionSet, prefix, seen);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seen.has(fragment.name.value)) collectShapes(fragment.selectionSet, prefix, new Set([...seen, fragment.name.value]));
      }
    }
  };
  collectShapes(operation.selectionSet, '', new Set());
  return { document, operation, fragments, requirements, fieldTypes, coordinates, shapes };
}

/** A removed field's stand-in: an aliased `__typename` where the field was, with its @skip/@include. */
export interface Marker {
  readonly responseKey: string;
  readonly nonNull: boolean;
  readonly coordinate: string;
}

/**
 * The operation with the fields the caller may not see removed. Each removed field is replaced
 * by a marker (`<prefix>N: __typename`, keeping the field's @skip/@include): a marker comes back
 * exactly where, and only where, the field would have — inside the fragments whose type
 * conditions applied, in the position the field's key would take — so the answer can be
 * restored to the client's shape (restore.ts). A field whose selections are all removed is
 * removed itself.
 */
export interface FilteredOperation {
  readonly document: DocumentNode;
  /** By marker alias. */
  readonly markers: ReadonlyMap<string, Marker>;
  /** Response-key paths (`a.b`) of the objects holding markers and of every object above them. */
  readonly towardMarkers: ReadonlySet<string>;
  /** The response-key paths of the removed fields, as written (reject mode reports them). */
  readonly removedPaths: readonly { path: readonly string[]; coordinate: string }[];
  /** The fields of the analysed document replaced by markers (their own, or their parent's). */
  readonly removedFields: ReadonlySet<FieldNode>;
  /** Every root field was removed: nothing to plan; the answer is the markers' nulls. */
  readonly nothingLeft: boolean;
  readonly shapes: ReadonlyMap<string, GraphQLOutputType>;
}

/** A prefix no response key of the document starts with. */
function markerPrefix(document: DocumentNode): string {
  const keys: string[] = [];
  visit(document, { Field: (node) => void keys.push(node.alias?.value ?? node.name.value) });
  let prefix = '_unauthorized';
  while (keys.some((key) => key.startsWith(prefix))) prefix = `_${prefix}`;
  return prefix;
}

/** Removes the fields whose requirement `denied` says the caller lacks; undefined when none is removed. */
export function filterOperation(analysis: OperationAnalysis, denied: (requirement: Requirement) => boolean): FilteredOperation | undefined {
  const { requirements, fragments } = analysis;
  if (![...requirements.values()].some(denied)) return undefined;
  const prefix = markerPrefix(analysis.document);
  const markerOf = new Map<FieldNode, string>();
  const markers = new Map<string, Marker>();
  const rewrittenFragments = new Map<string, { definition: FragmentDefinitionNode; real: boolean }>();

  const marker = (field: FieldNode): FieldNode => {
    let alias = markerOf.get(field);
    if (!alias) {
      alias = `${prefix}${markerOf.size}`;
      markerOf.set(field, alias);
      markers.set(alias, {
        responseKey: field.alias?.value ?? field.name.value,
        nonNull: isNonNullType(analysis.fieldTypes.get(field)),
        coordinate: analysis.coordinates.get(field) ?? field.name.value,
      });
    }
    const conditions = field.directives?.filter((d) => d.name.value === 'skip' || d.name.value === 'include');
    return { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: alias }, name: { kind: Kind.NAME, value: '__typename' }, directives: conditions };
  };

  /** `real`: something other than markers is left. */
  const rewrite = (selectionSet: SelectionSetNode): { selectionSet: SelectionSetNode; real: boolean } => {
    const selections: SelectionNode[] = [];
    let real = false;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const requirement = requirements.get(selection);
        if (requirement && denied(requirement)) {
          selections.push(marker(selection));
        } else if (selection.selectionSet) {
          const inner = rewrite(selection.selectionSet);
          if (inner.real) {
            selections.push(inner.selectionSet === selection.selectionSet ? selection : { ...selection, selectionSet: inner.selectionSet });
            real = true;
          } else {
            selections.push(marker(selection));
          }
        } else {
          selections.push(selection);
          real = true;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const inner = rewrite(selection.selectionSet);
        selections.push(inner.selectionSet === selection.selectionSet ? selection : { ...selection, selectionSet: inner.selectionSet });
        real ||= inner.real;
      } else {
        const fragment = rewriteFragment(selection.name.value);
        selections.push(selection);
        real ||= fragment?.real ?? false;
      }
    }
    const unchanged = selections.every((s, i) => s === selectionSet.selections[i]);
    return { selectionSet: unchanged ? selectionSet : { ...selectionSet, selections }, real };
  };

  const rewriteFragment = (name: string) => {
    let rewritten = rewrittenFragments.get(name);
    const definition = fragments.get(name);
    if (!rewritten && definition) {
      const inner = rewrite(definition.selectionSet);
      rewritten = { definition: { ...definition, selectionSet: inner.selectionSet }, real: inner.real };
      rewrittenFragments.set(name, rewritten);
    }
    return rewritten;
  };

  const root = rewrite(analysis.operation.selectionSet);
  const operation: OperationDefinitionNode = { ...analysis.operation, selectionSet: root.selectionSet };
  // Only the fragments still spread, and only the variables still used: unused ones make a document invalid.
  const used = new Set<string>();
  const usedVariables = new Set<string>();
  const collectUses = (node: OperationDefinitionNode | FragmentDefinitionNode) =>
    visit(node.selectionSet, {
      FragmentSpread: (spread) => {
        if (used.has(spread.name.value)) return;
        used.add(spread.name.value);
        const fragment = rewrittenFragments.get(spread.name.value);
        if (fragment) collectUses(fragment.definition);
      },
      Variable: (variable) => void usedVariables.add(variable.name.value),
    });
  collectUses(operation);
  const definitions = [
    { ...operation, variableDefinitions: operation.variableDefinitions?.filter((d) => usedVariables.has(d.variable.name.value)) },
    ...[...rewrittenFragments].filter(([name]) => used.has(name)).map(([, fragment]) => fragment.definition),
  ];
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions };

  // Where markers sit, through every spread of every fragment.
  const towardMarkers = new Set<string>();
  const removedPaths: { path: string[]; coordinate: string }[] = [];
  const walk = (selectionSet: SelectionSetNode, path: string[]) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const found = selection.alias && markers.get(selection.alias.value);
        if (found && selection.name.value === '__typename') {
          for (let i = 0; i <= path.length; i++) towardMarkers.add(path.slice(0, i).join('.'));
          removedPaths.push({ path: [...path, found.responseKey], coordinate: found.coordinate });
        } else if (selection.selectionSet) {
          walk(selection.selectionSet, [...path, selection.alias?.value ?? selection.name.value]);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, path);
      } else {
        const fragment = rewrittenFragments.get(selection.name.value);
        if (fragment) walk(fragment.definition.selectionSet, path);
      }
    }
  };
  walk(operation.selectionSet, []);
  return { document, markers, towardMarkers, removedPaths: dedupe(removedPaths), removedFields: new Set(markerOf.keys()), nothingLeft: !root.real, shapes: analysis.shapes };
}

function dedupe(paths: { path: string[]; coordinate: string }[]) {
  const seen = new Set<string>();
  return paths.filter(({ path }) => {
    const key = path.join('.');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
