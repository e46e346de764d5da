import { parseArgs } from 'node:util';
import { SCOPES } from '../runtime/identity';
import { signDevToken } from '../runtime/dev-token';

/**
 * `npm run token -- --sub alice --scope "payments:read payments:write" [--customer cus_…] [--ttl 3600]`
 * prints a development token (HS256, JWT_SECRET or the dev default) as its last word.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      scope: { type: 'string', default: '' },
      customer: { type: 'string' },
      ttl: { type: 'string', default: '86400' },
    },
  });
  if (!values.sub) throw new Error('usage: npm run token -- --sub <name> --scope "<scopes>" [--customer <id>] [--ttl <seconds>]');
  const scopes = values.scope!.split(/\s+/).filter(Boolean);
  const unknown = scopes.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length) throw new Error(`unknown scope(s): ${unknown.join(', ')}; known: ${SCOPES.join(' ')}`);
  if (!/^\d+$/.test(values.ttl!)) throw new Error('--ttl must be a number of seconds');
  const token = await signDevToken({ sub: values.sub, scope: scopes.join(' '), customerId: values.customer, expiresIn: Number(values.ttl) });
  console.log(token);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
