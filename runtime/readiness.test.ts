import type { AddressInfo } from 'node:net';
import express from 'express';
import { readinessHandler } from './readiness';

async function readyz(checks: Parameters<typeof readinessHandler>[1]): Promise<{ status: number; body: any }> {
  const app = express();
  app.get('/readyz', readinessHandler('payments', checks));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
    return { status: response.status, body: await response.json() };
  } finally {
    server.close();
  }
}

test('ready when every check passes', async () => {
  expect(await readyz({ database: async () => true, eventBus: () => true })).toEqual({
    status: 200,
    body: { status: 'ready', service: 'payments', checks: { database: 'ok', eventBus: 'ok' } },
  });
});

test('unavailable, naming the check, when one fails or throws', async () => {
  const busDown = await readyz({ database: async () => true, eventBus: () => false });
  expect(busDown).toEqual({ status: 503, body: { status: 'unavailable', service: 'payments', reason: 'eventBus not ready', checks: { database: 'ok', eventBus: 'failing' } } });
  const dbDown = await readyz({
    database: async () => {
      throw new Error('connection refused');
    },
  });
  expect(dbDown.status).toBe(503);
  expect(dbDown.body.reason).toBe('database unreachable');
});
