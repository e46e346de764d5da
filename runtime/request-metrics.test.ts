import { GraphQLError } from 'graphql';
import { ErrorCode, PaygraphError } from './errors';
import { errorCodeLabel } from './request-metrics';

test('labels errors with the code the client sees, and bounds unknown codes', () => {
  expect(errorCodeLabel(new PaygraphError(ErrorCode.INSUFFICIENT_FUNDS, 'no money'))).toBe('INSUFFICIENT_FUNDS');
  const wrapped = new GraphQLError('wrapped', { originalError: new PaygraphError(ErrorCode.LIMIT_EXCEEDED, 'too deep') });
  expect(errorCodeLabel(wrapped)).toBe('LIMIT_EXCEEDED');
  expect(errorCodeLabel(new GraphQLError('bad', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }))).toBe('BAD_USER_INPUT');
  expect(errorCodeLabel(new GraphQLError('odd', { extensions: { code: 'SOMETHING_A_CLIENT_MADE_UP' } }))).toBe('OTHER');
  expect(errorCodeLabel(new GraphQLError('boom'))).toBe('INTERNAL_SERVER_ERROR');
});
