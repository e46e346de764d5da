import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
} from 'graphql';

/** What kind of break a change is; a rename shows as a removal (the new name is an addition). */
export type BreakingChangeKind =
  | 'TYPE_REMOVED'
  | 'TYPE_KIND_CHANGED'
  | 'FIELD_REMOVED'
  | 'FIELD_TYPE_CHANGED'
  | 'ARG_REMOVED'
  | 'ARG_TYPE_CHANGED'
  | 'REQUIRED_ARG_ADDED'
  | 'ENUM_VALUE_REMOVED'
  | 'INPUT_FIELD_REMOVED'
  | 'INPUT_FIELD_TYPE_CHANGED'
  | 'REQUIRED_INPUT_FIELD_ADDED'
  | 'UNION_MEMBER_REMOVED'
  | 'INTERFACE_REMOVED';

export interface BreakingChange {
  kind: BreakingChangeKind;
  /** The schema coordinate changed: `Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`. */
  coordinate: string;
  message: string;
  /**
   * Usage coordinates (as the gateway records them) whose use by an operation means this
   * change breaks that operation. Input and enum changes affect every use of the type,
   * because values passed in variables are not recorded field by field.
   */
  affects: string[];
}

function kindOf(type: GraphQLNamedType): string {
  if (isObjectType(type)) return 'object';
  if (isInterfaceType(type)) return 'interface';
  if (isUnionType(type)) return 'union';
  if (isEnumType(type)) return 'enum';
  if (isInputObjectType(type)) return 'input';
  return 'scalar';
}

/** An output may become stricter (non-null, same named type), never looser. */
function safeForOutput(oldType: GraphQLType, newType: GraphQLType): boolean {
  if (isNonNullType(newType)) return safeForOutput(isNonNullType(oldType) ? oldType.ofType : oldType, newType.ofType);
  if (isNonNullType(oldType)) return false;
  if (isListType(oldType)) return isListType(newType) && safeForOutput(oldType.ofType, newType.ofType);
  return !isListType(newType) && (oldType as GraphQLNamedType).name === (newType as GraphQLNamedType).name;
}

/** An input may become looser (nullable, same named type), never stricter. */
function safeForInput(oldType: GraphQLType, newType: GraphQLType): boolean {
  if (isNonNullType(oldType)) return safeForInput(oldType.ofType, isNonNullType(newType) ? newType.ofType : newType);
  if (isNonNullType(newType)) return false;
  if (isListType(oldType)) return isListType(newType) && safeForInput(oldType.ofType, newType.ofType);
  return !isListType(newType) && (oldType as GraphQLNamedType).name === (newType as GraphQLNamedType).name;
}

function fieldChanges(typeName: string, oldField: GraphQLField<unknown, unknown>, newField: GraphQLField<unknown, unknown>): BreakingChange[] {
  const field = `${typeName}.${oldField.name}`;
  const changes: BreakingChange[] = [];
  if (!safeForOutput(oldField.type, newField.type)) {
    changes.push({ kind: 'FIELD_TYPE_CHANGED', coordinate: field, message: `${field} changed type from ${oldField.type} to ${newField.type}`, affects: [field] });
  }
  const newArgs = new Map<string, GraphQLArgument>(newField.args.map((a) => [a.name, a]));
  for (const oldArg of oldField.args) {
    const coordinate = `${field}(${oldArg.name}:)`;
    const newArg = newArgs.get(oldArg.name);
    if (!newArg) {
      changes.push({ kind: 'ARG_REMOVED', coordinate, message: `argument ${coordinate} was removed`, affects: [coordinate] });
    } else if (!safeForInput(oldArg.type, newArg.type)) {
      // A tightened argument also breaks operations that leave it out: every use of the field.
      changes.push({ kind: 'ARG_TYPE_CHANGED', coordinate, message: `argument ${coordinate} changed type from ${oldArg.type} to ${newArg.type}`, affects: [field] });
    }
  }
  const oldArgNames = new Set(oldField.args.map((a) => a.name));
  for (const newArg of newField.args) {
    if (!oldArgNames.has(newArg.name) && isRequiredArgument(newArg)) {
      const coordinate = `${field}(${newArg.name}:)`;
      changes.push({ kind: 'REQUIRED_ARG_ADDED', coordinate, message: `required argument ${coordinate} (${newArg.type}) was added`, affects: [field] });
    }
  }
  return changes;
}

function typeChanges(oldType: GraphQLNamedType, newType: GraphQLNamedType): BreakingChange[] {
  const name = oldType.name;
  const changes: BreakingChange[] = [];
  if ((isObjectType(oldType) && isObjectType(newType)) || (isInterfaceType(oldType) && isInterfaceType(newType))) {
    const newFields = newType.getFields();
    for (const oldField of Object.values(oldType.getFields())) {
      const newField = newFields[oldField.name];
      const coordinate = `${name}.${oldField.name}`;
      if (!newField) changes.push({ kind: 'FIELD_REMOVED', coordinate, message: `field ${coordinate} was removed`, affects: [coordinate] });
      else changes.push(...fieldChanges(name, oldField, newField));
    }
    const newInterfaces = new Set(newType.getInterfaces().map((i) => i.name));
    for (const iface of oldType.getInterfaces()) {
      if (!newInterfaces.has(iface.name)) {
        changes.push({ kind: 'INTERFACE_REMOVED', coordinate: name, message: `${name} no longer implements ${iface.name}`, affects: [name, iface.name] });
      }
    }
  } else if (isUnionType(oldType) && isUnionType(newType)) {
    const members = new Set(newType.getTypes().map((t) => t.name));
    for (const member of oldType.getTypes()) {
      if (!members.has(member.name)) {
        changes.push({ kind: 'UNION_MEMBER_REMOVED', coordinate: name, message: `${member.name} was removed from union ${name}`, affects: [name] });
      }
    }
  } else if (isEnumType(oldType) && isEnumType(newType)) {
    const values = new Set(newType.getValues().map((v) => v.name));
    for (const value of oldType.getValues()) {
      if (!values.has(value.name)) {
        const coordinate = `${name}.${value.name}`;
        changes.push({ kind: 'ENUM_VALUE_REMOVED', coordinate, message: `enum value ${coordinate} was removed`, affects: [name] });
      }
    }
  } else if (isInputObjectType(oldType) && isInputObjectType(newType)) {
    const newFields = newType.getFields();
    for (const oldField of Object.values(oldType.getFields())) {
      const coordinate = `${name}.${oldField.name}`;
      const newField = newFields[oldField.name];
      if (!newField) changes.push({ kind: 'INPUT_FIELD_REMOVED', coordinate, message: `input field ${coordinate} was removed`, affects: [name] });
      else if (!safeForInput(oldField.type, newField.type)) {
        changes.push({ kind: 'INPUT_FIELD_TYPE_CHANGED', coordinate, message: `input field ${coordinate} changed type from ${oldField.type} to ${newField.type}`, affects: [name] });
      }
    }
    const oldFields = oldType.getFields();
    for (const newField of Object.values(newFields)) {
      if (!oldFields[newField.name] && isRequiredInputField(newField)) {
        const coordinate = `${name}.${newField.name}`;
        changes.push({ kind: 'REQUIRED_INPUT_FIELD_ADDED', coordinate, message: `required input field ${coordinate} (${newField.type}) was added`, affects: [name] });
      }
    }
  }
  return changes;
}

/**
 * The changes from `before` to `after` (API schemas, as clients see them) that can break an
 * existing operation: removals (renames included), type changes, new required arguments and
 * input fields, outputs made nullable, inputs made non-null. Additions are never breaking.
 */
export function findBreakingChanges(before: GraphQLSchema, after: GraphQLSchema): BreakingChange[] {
  const changes: BreakingChange[] = [];
  const afterTypes = after.getTypeMap();
  for (const oldType of Object.values(before.getTypeMap())) {
    if (oldType.name.startsWith('__')) continue;
    const newType = afterTypes[oldType.name];
    if (!newType) {
      changes.push({ kind: 'TYPE_REMOVED', coordinate: oldType.name, message: `type ${oldType.name} was removed`, affects: [oldType.name] });
    } else if (kindOf(oldType) !== kindOf(newType)) {
      changes.push({ kind: 'TYPE_KIND_CHANGED', coordinate: oldType.name, message: `${oldType.name} changed from ${kindOf(oldType)} to ${kindOf(newType)}`, affects: [oldType.name] });
    } else {
      changes.push(...typeChanges(oldType, newType));
    }
  }
  return changes;
}
