import { argumentValue, type Variables } from './arguments';
import type { FieldPlan } from './cost-plan';
import type { ListSize } from './cost-directives';

/** A field with `@listSize(requireOneSlicingArgument: true)` asked without exactly one slicing argument. */
export class SlicingArgumentError extends Error {
  constructor(
    readonly coordinate: string,
    readonly slicingArguments: readonly string[],
    readonly given: number,
  ) {
    super(`${coordinate} needs exactly one of its slicing arguments (${slicingArguments.join(', ')}); the operation gives ${given}`);
    this.name = 'SlicingArgumentError';
  }
}

/** A slicing argument's size: an Int is the size, a list its length; anything else gives none. */
function sizeOf(value: unknown): number | undefined {
  if (Array.isArray(value)) return value.length;
  return typeof value === 'number' && Number.isInteger(value) ? Math.max(0, value) : undefined;
}

/**
 * The size `@listSize` expects of a field's list: the largest of its slicing arguments that
 * have a value (defaults applied), else `assumedSize`. Undefined when neither says.
 */
export function expectedListSize(field: FieldPlan, listSize: ListSize, variables: Variables, requireSlicingArguments = true): number | undefined {
  if (listSize.slicingArguments.length === 0) return listSize.assumedSize;
  const sizes = listSize.slicingArguments.map((name) => sizeOf(argumentValue(field, name, variables))).filter((size): size is number => size !== undefined);
  if (requireSlicingArguments && listSize.requireOneSlicingArgument && sizes.length !== 1) throw new SlicingArgumentError(field.coordinate, listSize.slicingArguments, sizes.length);
  return sizes.length > 0 ? Math.max(...sizes) : listSize.assumedSize;
}
