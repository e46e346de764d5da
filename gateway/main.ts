import { createLogger } from '../runtime/logger';
import { stopOnTerminationSignals } from '../runtime/shutdown';
import { readGatewayConfig } from './config';
import { startGateway } from './server';

const log = createLogger('gateway');

startGateway(readGatewayConfig(), log).then(
  (gateway) => {
    log.info({ url: gateway.url }, 'gateway ready');
    stopOnTerminationSignals(() => gateway.stop(), log);
  },
  (error: unknown) => {
    log.fatal({ err: error }, 'gateway failed to start');
    process.exit(1);
  },
);
