import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
  Kind,
  parse,
  print,
  type DefinitionNode,
  type GraphQLSchema,
} from 'graphql';

export const API_CONTRACT_PATH = join(__dirname, '..', 'api-contract.graphql');

export interface ContractViolation {
  /** The protected coordinate that changed. */
  coordinate: string;
  message: string;
}

const OBJECT_KINDS = new Set<string>([Kind.OBJECT_TYPE_DEFINITION, Kind.OBJECT_TYPE_EXTENSION, Kind.INTERFACE_TYPE_DEFINITION]);
const INPUT_KINDS = new Set<string>([Kind.INPUT_OBJECT_TYPE_DEFINITION, Kind.INPUT_OBJECT_TYPE_EXTENSION]);
const ENUM_KINDS = new Set<string>([Kind.ENUM_TYPE_DEFINITION, Kind.ENUM_TYPE_EXTENSION]);

/**
 * Where `schema` (a proposed API schema) departs from the protected contract
 * (schema/api-contract.graphql): every name must still exist with exactly the written type,
 * and contract fields and inputs may gain only optional arguments and input fields.
 */
export function contractViolations(schema: GraphQLSchema, contractSdl = readFileSync(API_CONTRACT_PATH, 'utf8')): ContractViolation[] {
  const violations: ContractViolation[] = [];
  const report = (coordinate: string, message: string) => violations.push({ coordinate, message });
  for (const definition of parse(contractSdl).definitions as DefinitionNode[]) {
    if (!('name' in definition) || !definition.name) continue;
    const name = definition.name.value;
    const type = schema.getType(name);
    if (!type) {
      report(name, `contract type ${name} is missing`);
      continue;
    }
    if (OBJECT_KINDS.has(definition.kind) && 'fields' in definition) {
      if (!isObjectType(type) && !isInterfaceType(type)) {
        report(name, `contract type ${name} is no longer an object type`);
        continue;
      }
      const fields = type.getFields();
      for (const fieldNode of definition.fields ?? []) {
        const coordinate = `${name}.${fieldNode.name.value}`;
        const field = fields[fieldNode.name.value];
        if (!field) {
          report(coordinate, `contract field ${coordinate} is missing`);
          continue;
        }
        if (String(field.type) !== print(fieldNode.type)) report(coordinate, `contract field ${coordinate} must be ${print(fieldNode.type)}, is ${field.type}`);
        const written = new Map(('arguments' in fieldNode ? (fieldNode.arguments ?? []) : []).map((a) => [a.name.value, print(a.type)] as const));
        for (const [argName, argType] of written) {
          const arg = field.args.find((a) => a.name === argName);
          const argCoordinate = `${coordinate}(${argName}:)`;
          if (!arg) report(argCoordinate, `contract argument ${argCoordinate} is missing`);
          else if (String(arg.type) !== argType) report(argCoordinate, `contract argument ${argCoordinate} must be ${argType}, is ${arg.type}`);
        }
        for (const arg of field.args) {
          if (!written.has(arg.name) && isRequiredArgument(arg)) report(`${coordinate}(${arg.name}:)`, `contract field ${coordinate} gained a required argument ${arg.name}`);
        }
      }
    } else if (INPUT_KINDS.has(definition.kind) && 'fields' in definition) {
      if (!isInputObjectType(type)) {
        report(name, `contract input ${name} is no longer an input type`);
        continue;
      }
      const fields = type.getFields();
      const written = new Set<string>();
      for (const fieldNode of definition.fields ?? []) {
        const coordinate = `${name}.${fieldNode.name.value}`;
        written.add(fieldNode.name.value);
        const field = fields[fieldNode.name.value];
        if (!field) report(coordinate, `contract input field ${coordinate} is missing`);
        else if (String(field.type) !== print(fieldNode.type)) report(coordinate, `contract input field ${coordinate} must be ${print(fieldNode.type)}, is ${field.type}`);
      }
      for (const field of Object.values(fields)) {
        if (!written.has(field.name) && isRequiredInputField(field)) report(`${name}.${field.name}`, `contract input ${name} gained a required field ${field.name}`);
      }
    } else if (ENUM_KINDS.has(definition.kind) && 'values' in definition) {
      if (!isEnumType(type)) {
        report(name, `contract enum ${name} is no longer an enum`);
        continue;
      }
      for (const valueNode of definition.values ?? []) {
        if (!type.getValue(valueNode.name.value)) report(`${name}.${valueNode.name.value}`, `contract enum value ${name}.${valueNode.name.value} is missing`);
      }
    }
  }
  return violations;
}
