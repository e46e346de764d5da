import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badInput } from './errors';
import { isCurrency } from './currencies';

/**
 * The custom scalars of API.md. Each validates its input shape only; amount-versus-currency
 * rules need both values and are applied by `parseDecimal` in the resolver.
 */
function stringScalar(name: string, description: string, check: (value: string) => string | undefined) {
  const parse = (value: unknown): string => {
    if (typeof value !== 'string') throw badInput(`${name} must be a string`);
    const problem = check(value);
    if (problem) throw badInput(`${name} ${JSON.stringify(value.slice(0, 64))}: ${problem}`);
    return value;
  };
  return new GraphQLScalarType<string, string>({
    name,
    description,
    serialize: (value) => String(value),
    parseValue: parse,
    parseLiteral: (ast: ValueNode) => {
      if (ast.kind !== Kind.STRING) throw badInput(`${name} must be written as a string`);
      return parse(ast.value);
    },
  });
}

export const DecimalScalar = stringScalar('Decimal', 'A decimal number written as a JSON string, e.g. "125.50".', (v) =>
  /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(v) ? undefined : 'not a plain decimal number',
);

export const BigIntScalar = new GraphQLScalarType<bigint, string>({
  name: 'BigInt',
  description: 'A whole number written as a JSON string, e.g. "12550".',
  serialize: (value) => String(value),
  parseValue: (value) => {
    if (typeof value !== 'string' || !/^-?(0|[1-9][0-9]*)$/.test(value)) throw badInput('BigInt must be a string of digits');
    return BigInt(value);
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || !/^-?(0|[1-9][0-9]*)$/.test(ast.value)) throw badInput('BigInt must be a string of digits');
    return BigInt(ast.value);
  },
});

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'ISO 8601 in UTC, e.g. "2026-11-24T19:03:00.000Z".',
  serialize: (value) => (value instanceof Date ? value : new Date(String(value))).toISOString(),
  parseValue: (value) => parseDate(value),
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseDate(value: unknown): Date {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(value)) {
    throw badInput('DateTime must be ISO 8601 in UTC');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw badInput('DateTime is not a real date');
  return date;
}

export const CurrencyScalar = stringScalar('Currency', 'An active ISO 4217 alphabetic code, e.g. "USD".', (v) =>
  isCurrency(v) ? undefined : 'not an active ISO 4217 currency code',
);

/** Resolver map entries for every scalar a subgraph declares. */
export const scalarResolvers = {
  Decimal: DecimalScalar,
  BigInt: BigIntScalar,
  DateTime: DateTimeScalar,
  Currency: CurrencyScalar,
};
