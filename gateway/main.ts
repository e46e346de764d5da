import { createLogger } from '../runtime/logger';
import { readGatewayConfig } from './config';
import { startGateway } from './server';

const log = createLogger('gateway');

startGateway(readGatewayConfig(), log).then(
  (gateway) => {
    log.info({ url: gateway.url }, 'gateway ready');
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      setTimeout(() => process.exit(1), Number(process.env.SHUTDOWN_GRACE_MS ?? 10_000)).unref();
      gateway.stop().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  },
  (error: unknown) => {
    log.fatal({ err: error }, 'gateway failed to start');
    process.exit(1);
  },
);
