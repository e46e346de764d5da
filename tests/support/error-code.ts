import { PaygraphError } from '../../runtime/errors';

/**
 * The `code` of the PaygraphError that `run` throws, or undefined when it throws nothing.
 * Anything else thrown fails the calling test: rules must refuse with our own error class.
 */
export function errorCodeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PaygraphError);
    return (error as PaygraphError).code;
  }
  return undefined;
}
