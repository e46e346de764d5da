import { readFileSync } from 'node:fs';
import { ConfigError } from '../../runtime/config';
import type { Identity } from '../../runtime/identity';

/**
 * What a `@policy` name means: a rule over the caller's verified identity, from a JSON file
 * operators edit (AUTHORIZATION_POLICIES_FILE). A rule holds when every condition it states
 * holds; `{}` holds for any authenticated caller. No policy ever holds for an anonymous caller.
 *
 *   customer   true: a customer's own token (it carries customer_id); false: staff.
 *   anyScope   at least one of these scopes.
 *   allScopes  every one of these scopes.
 *   anyOf      at least one of these rules.
 */
export interface PolicyRule {
  readonly customer?: boolean;
  readonly anyScope?: readonly string[];
  readonly allScopes?: readonly string[];
  readonly anyOf?: readonly PolicyRule[];
}

/** Policy name → rule, as the file gives them. */
export type PolicyRules = Readonly<Record<string, PolicyRule>>;

const RULE_KEYS = ['customer', 'anyScope', 'allScopes', 'anyOf'];

function scopeList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((s) => typeof s === 'string' && s !== '')) {
    throw new ConfigError(`${where} must be a non-empty list of scope names`);
  }
  return value as string[];
}

function parseRule(value: unknown, where: string): PolicyRule {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where} must be an object`);
  const raw = value as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((key) => !RULE_KEYS.includes(key));
  if (unknown.length > 0) throw new ConfigError(`${where} has unknown key ${JSON.stringify(unknown[0])} (a rule takes ${RULE_KEYS.join(', ')})`);
  const rule: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = {};
  if (raw.customer !== undefined) {
    if (typeof raw.customer !== 'boolean') throw new ConfigError(`${where}.customer must be true or false`);
    rule.customer = raw.customer;
  }
  if (raw.anyScope !== undefined) rule.anyScope = scopeList(raw.anyScope, `${where}.anyScope`);
  if (raw.allScopes !== undefined) rule.allScopes = scopeList(raw.allScopes, `${where}.allScopes`);
  if (raw.anyOf !== undefined) {
    if (!Array.isArray(raw.anyOf) || raw.anyOf.length === 0) throw new ConfigError(`${where}.anyOf must be a non-empty list of rules`);
    rule.anyOf = raw.anyOf.map((inner, i) => parseRule(inner, `${where}.anyOf[${i}]`));
  }
  return rule;
}

/** Validates a policy file's parsed JSON; a mistake is a ConfigError naming where it is. */
export function parsePolicyRules(json: unknown, origin: string): PolicyRules {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`${origin} must be a JSON object of policy name to rule`);
  const rules: Record<string, PolicyRule> = {};
  for (const [name, rule] of Object.entries(json)) {
    if (name.trim() === '') throw new ConfigError(`${origin} has a policy with an empty name`);
    rules[name] = parseRule(rule, `${origin}: policy ${JSON.stringify(name)}`);
  }
  return rules;
}

/** Reads and validates a policy file at start-up. */
export function loadPolicyRules(path: string): PolicyRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`AUTHORIZATION_POLICIES_FILE: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`AUTHORIZATION_POLICIES_FILE: ${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parsePolicyRules(json, `AUTHORIZATION_POLICIES_FILE ${path}`);
}

export function ruleHolds(rule: PolicyRule, identity: Identity): boolean {
  if (rule.customer !== undefined && rule.customer !== (identity.customerId !== undefined)) return false;
  if (rule.anyScope && !rule.anyScope.some((scope) => identity.scopes.includes(scope))) return false;
  if (rule.allScopes && !rule.allScopes.every((scope) => identity.scopes.includes(scope))) return false;
  if (rule.anyOf && !rule.anyOf.some((inner) => ruleHolds(inner, identity))) return false;
  return true;
}
