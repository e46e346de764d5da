import { join } from 'node:path';
import { SUBGRAPH_NAMES, SUBGRAPHS } from '../../runtime/config';
import { sumDbCommands } from '../../runtime/metrics';
import { startService } from '../../scripts/stack';
import type { BenchStack } from '../support';

/**
 * The compliance subgraph's payment-event auditor, run as a compliance process of its own
 * beside the stack's (which runs with COMPLIANCE_AUDIT_POLL_MS=0). Its work can then be
 * switched on and off within one run and its commands and CPU told apart from the
 * compliance checks'. Nothing calls its GraphQL endpoint; the audit trail is keyed by event
 * cursor, so two auditors would not duplicate it either.
 */
export interface AuditorProcess {
  readonly pid: number | undefined;
  /** Database commands it has sent (its own database's counter). */
  dbCommands(): Promise<number>;
  stop(): Promise<void>;
}

export async function startAuditor(stack: BenchStack, options: { port: number; pollMs: number; dbPrefix: string; env: Record<string, string> }): Promise<AuditorProcess> {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...options.env,
    MONGODB_URI: stack.mongoUri,
    MONGODB_DB_PREFIX: options.dbPrefix,
    SUBGRAPH_URLS: JSON.stringify(stack.subgraphUrls),
    COMPLIANCE_AUDIT_POLL_MS: String(options.pollMs),
  };
  for (const name of SUBGRAPH_NAMES) env[SUBGRAPHS[name].urlEnv] = stack.subgraphUrls[name];
  env[SUBGRAPHS.compliance.portEnv] = String(options.port);
  const base = `http://127.0.0.1:${options.port}`;
  const { child, stop } = await startService(join(__dirname, '..', '..', 'subgraphs', 'compliance', 'main.ts'), env, `${base}/readyz`);
  return {
    pid: child.pid,
    dbCommands: async () => sumDbCommands(await (await fetch(`${base}/metrics`)).text(), `${options.dbPrefix}compliance`),
    stop,
  };
}
