import { getOperationAST, Kind, parse, print, type ArgumentNode, type DocumentNode, type FieldNode } from 'graphql';

/** A GraphQL request as the SSE endpoint receives it. */
export interface OperationRequest {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/**
 * The request resumed from `cursor` (an SSE `Last-Event-ID`): the root field's `after`
 * argument set to it, which wins over the `after` the request had, since the client has
 * seen everything up to the cursor. When `after` is a variable its value changes, so the
 * document stays the same; otherwise the argument is written inline. A document that cannot
 * be read is returned as it is, for validation to report.
 */
export function resumeFrom(request: OperationRequest, cursor: string): OperationRequest {
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch {
    return request;
  }
  const operation = getOperationAST(document, request.operationName);
  const field = operation?.selectionSet.selections[0];
  if (!operation || operation.operation !== 'subscription' || field?.kind !== Kind.FIELD) return request;
  const after = field.arguments?.find((argument) => argument.name.value === 'after');
  if (after?.value.kind === Kind.VARIABLE) return { ...request, variables: { ...request.variables, [after.value.name.value]: cursor } };

  const inline: ArgumentNode = { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'after' }, value: { kind: Kind.STRING, value: cursor } };
  const resumed: FieldNode = { ...field, arguments: [...(field.arguments ?? []).filter((argument) => argument !== after), inline] };
  const selections = operation.selectionSet.selections.map((selection) => (selection === field ? resumed : selection));
  const definitions = document.definitions.map((definition) => (definition === operation ? { ...operation, selectionSet: { ...operation.selectionSet, selections } } : definition));
  return { ...request, query: print({ ...document, definitions }) };
}
