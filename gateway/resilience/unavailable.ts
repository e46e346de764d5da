import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { ErrorCode } from '../../runtime/errors';

/** Why a subgraph call did not produce an answer. */
export type UnavailableReason = 'unreachable' | 'timeout' | 'overloaded' | 'circuit-open';

/**
 * A subgraph call that got no answer (connection refused or reset, timeout, 502/503/504) or
 * was not attempted because the circuit is open. Raised by the fetcher and the guard, turned
 * into SUBGRAPH_UNAVAILABLE field errors by the data source; never seen by clients as such.
 */
export class SubgraphUnavailableError extends Error {
  constructor(readonly reason: UnavailableReason, cause?: unknown) {
    super(`subgraph unavailable (${reason})`, { cause });
    this.name = 'SubgraphUnavailableError';
  }
}

/** A GraphQL error as a subgraph would send it; the gateway maps `path` onto the client's query. */
export interface SubgraphError {
  message: string;
  path?: (string | number)[];
  extensions: { code: string; reason: UnavailableReason };
}

function operationOf(document: DocumentNode): OperationDefinitionNode | undefined {
  return document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
}

export function isMutation(document: DocumentNode): boolean {
  return operationOf(document)?.operation === 'mutation';
}

/** Response keys (alias or name) selected directly in `selectionSet`, through inline fragments. */
function responseKeys(selectionSet: SelectionSetNode, into = new Set<string>()): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') into.add(selection.alias?.value ?? selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      responseKeys(selection.selectionSet, into);
    }
  }
  return into;
}

/**
 * The errors standing in for a whole fetch's answer: one per field the fetch would have
 * filled in, each with the path the subgraph would have used (`[field]` for a root fetch,
 * `['_entities', i, field]` for an entity fetch), so the gateway reports SUBGRAPH_UNAVAILABLE
 * on exactly the fields that are missing and keeps every other subgraph's data.
 */
export function unavailableErrors(subgraph: string, reason: UnavailableReason, document: DocumentNode, variables: Record<string, unknown> | undefined): SubgraphError[] {
  const message = `subgraph "${subgraph}" is unavailable; the data it owns is missing (${reason})`;
  const extensions = { code: ErrorCode.SUBGRAPH_UNAVAILABLE, reason };
  const operation = operationOf(document);
  if (!operation) return [{ message, extensions }];
  const errors: SubgraphError[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const key = selection.alias?.value ?? selection.name.value;
    if (selection.name.value === '_entities' && selection.selectionSet) {
      const representations = Array.isArray(variables?.representations) ? variables.representations.length : 0;
      const fields = [...responseKeys(selection.selectionSet)];
      for (let index = 0; index < representations; index++) {
        for (const field of fields) errors.push({ message, path: [key, index, field], extensions });
      }
    } else if (key !== '__typename') {
      errors.push({ message, path: [key], extensions });
    }
  }
  return errors.length ? errors : [{ message, extensions }];
}
