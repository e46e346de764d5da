import { GraphQLError, isListType, isNonNullType, type GraphQLOutputType } from 'graphql';
import { ErrorCode } from '../../runtime/errors';
import type { FilteredOperation } from './operation-filter';

type Path = (string | number)[];

/** The error a removed field leaves, at the path where the client asked for it. */
export function unauthorizedError(coordinate: string, path?: readonly (string | number)[]): GraphQLError {
  return new GraphQLError(`Unauthorized field or type: ${coordinate}`, { path, extensions: { code: ErrorCode.UNAUTHORIZED_FIELD_OR_TYPE } });
}

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLError[];
}

/**
 * The answer to a filtered operation in the shape the client asked for: every marker becomes
 * its field's key with `null` (in the field's place) and one error at its path, list indices
 * included; a removed non-null field nulls its nearest nullable parent, as GraphQL's
 * execution would, up to `data: null`.
 */
export function restoreRemovedFields<T extends Answer>(answer: T, filtered: FilteredOperation): T {
  const errors: GraphQLError[] = [];
  const nonNull: Path[] = [];
  const restore = (value: unknown, path: Path, keyPath: string): unknown => {
    if (Array.isArray(value)) return value.map((item, index) => restore(item, [...path, index], keyPath));
    if (value === null || typeof value !== 'object' || !filtered.towardMarkers.has(keyPath)) return value;
    const restored: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const marker = filtered.markers.get(key);
      if (!marker) {
        restored[key] = restore(child, [...path, key], keyPath === '' ? key : `${keyPath}.${key}`);
      } else if (!Object.hasOwn(restored, marker.responseKey)) {
        restored[marker.responseKey] = null;
        const at = [...path, marker.responseKey];
        errors.push(unauthorizedError(marker.coordinate, at));
        if (marker.nonNull) nonNull.push(at);
      }
    }
    return restored;
  };
  if (answer.data === null || answer.data === undefined) return answer;
  let data = restore(answer.data, [], '') as Record<string, unknown> | null;
  for (const path of nonNull) {
    if (data === null) break;
    data = nullNearestNullable(data, path, filtered.shapes);
  }
  return { ...answer, data, errors: [...errors, ...(answer.errors ?? [])] };
}

/** Whether the value at `path[index]` may be null: a field's own type, or a list item's. */
function nullableAt(path: Path, index: number, shapes: ReadonlyMap<string, GraphQLOutputType>): boolean {
  let field = index;
  while (typeof path[field] === 'number') field--;
  const keyPath = path.slice(0, field + 1).filter((p) => typeof p === 'string').join('.');
  let type: GraphQLOutputType | undefined = shapes.get(keyPath);
  for (let depth = field; depth < index && type; depth++) {
    const list: GraphQLOutputType = isNonNullType(type) ? type.ofType : type;
    type = isListType(list) ? (list.ofType as GraphQLOutputType) : undefined;
  }
  return type !== undefined && !isNonNullType(type);
}

/** Nulls the nearest nullable parent of the non-null `path`; null when none is below `data`. */
function nullNearestNullable(data: Record<string, unknown>, path: Path, shapes: ReadonlyMap<string, GraphQLOutputType>): Record<string, unknown> | null {
  const holders: Record<string | number, unknown>[] = [data];
  for (let i = 0; i < path.length - 1; i++) {
    const next = holders[i][path[i]];
    // A parent already nulled (by another removal or by the executor) holds nothing to null.
    if (next === null || typeof next !== 'object') return data;
    holders.push(next as Record<string | number, unknown>);
  }
  for (let i = path.length - 2; i >= 0; i--) {
    if (nullableAt(path, i, shapes)) {
      holders[i][path[i]] = null;
      return data;
    }
  }
  return null;
}
