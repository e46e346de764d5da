import { join } from 'node:path';
import { ConfigError, envOptional, envString } from '../../runtime/config';
import { loadPolicyRules, type PolicyRules } from './policies';

/**
 * `filter` removes what the caller may not see and answers the rest (null and an error where
 * each removed field was); `reject` refuses the whole operation.
 */
export type AuthorizationMode = 'filter' | 'reject';

export interface AuthorizationConfig {
  /** Env AUTHORIZATION_MODE, default filter. */
  mode: AuthorizationMode;
  /** The `@policy` rules file. Env AUTHORIZATION_POLICIES_FILE, default gateway/authorization/policies.json. */
  policiesFile: string;
  /** Its rules, validated at start-up. */
  policies: PolicyRules;
}

export const DEFAULT_POLICIES_FILE = join(__dirname, 'policies.json');

/** GatewayConfig.authorization: read by readGatewayConfig, at start, and nowhere else. */
export function readAuthorizationConfig(): AuthorizationConfig {
  const mode = envString('AUTHORIZATION_MODE', 'filter');
  if (mode !== 'filter' && mode !== 'reject') throw new ConfigError(`AUTHORIZATION_MODE must be filter or reject, got ${JSON.stringify(mode)}`);
  const policiesFile = envOptional('AUTHORIZATION_POLICIES_FILE') ?? DEFAULT_POLICIES_FILE;
  return { mode, policiesFile, policies: loadPolicyRules(policiesFile) };
}
