import { createLogger } from '../runtime/logger';
import { stopOnTerminationSignals } from '../runtime/shutdown';
import { readGatewayConfig } from './config';
import { startGateway } from './server';

const log = createLogger('gateway');

/** One fatal line naming the cause, and a non-zero exit a supervisor reads as a failure. */
function failedToStart(error: unknown): never {
  log.fatal({ err: error }, `gateway failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const config = readGatewayConfig();
  const gateway = await startGateway(config, log);
  log.info({ url: gateway.url }, 'gateway ready');
  stopOnTerminationSignals(() => gateway.stop(), log, config.shutdown);
}

main().catch(failedToStart);
