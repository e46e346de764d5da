/**
 * Reading configuration from the environment, once per process. Each process builds one
 * typed config object with these helpers; a bad value fails at start with the variable's name.
 */
export class ConfigError extends Error {}

export function envString(name: string, fallback?: string): string {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback === undefined) throw new ConfigError(`environment variable ${name} is required`);
  return fallback;
}

export function envOptional(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function envInt(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

export function envBool(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

/** The four subgraphs, their default ports and the env variables that override their URLs. */
export const SUBGRAPHS = {
  accounts: { port: 4001, urlEnv: 'ACCOUNTS_URL', portEnv: 'ACCOUNTS_PORT' },
  payments: { port: 4002, urlEnv: 'PAYMENTS_URL', portEnv: 'PAYMENTS_PORT' },
  risk: { port: 4003, urlEnv: 'RISK_URL', portEnv: 'RISK_PORT' },
  compliance: { port: 4004, urlEnv: 'COMPLIANCE_URL', portEnv: 'COMPLIANCE_PORT' },
} as const;
export type SubgraphName = keyof typeof SUBGRAPHS;
export const SUBGRAPH_NAMES = Object.keys(SUBGRAPHS) as SubgraphName[];

export function subgraphPort(name: SubgraphName): number {
  return envInt(SUBGRAPHS[name].portEnv, SUBGRAPHS[name].port, { min: 0, max: 65535 });
}

/** Where a subgraph's GraphQL endpoint is, for the gateway and for internal calls. */
export function subgraphUrl(name: SubgraphName): string {
  return envString(SUBGRAPHS[name].urlEnv, `http://127.0.0.1:${subgraphPort(name)}/graphql`);
}

/** Shared secret for signing gateway→subgraph and subgraph→subgraph requests. */
export function internalSigningSecret(): string {
  const secret = envString('PAYGRAPH_INTERNAL_SECRET', process.env.NODE_ENV === 'production' ? undefined : 'dev-internal-secret-change-me');
  if (process.env.NODE_ENV === 'production' && secret.length < 32) {
    throw new ConfigError('PAYGRAPH_INTERNAL_SECRET must be at least 32 characters in production');
  }
  return secret;
}
