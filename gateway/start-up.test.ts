import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

/**
 * A gateway that cannot start says why in one fatal log line and exits non-zero, so a
 * supervisor restarts or alerts instead of reading a clean stop.
 */
const MAIN = join(__dirname, 'main.ts');

function runGateway(env: Record<string, string>): Promise<{ code: number | null; fatal: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const fatal = output.split('\n').filter((line) => line.includes('"level":60'));
      resolve({ code, fatal: fatal.map((line) => (JSON.parse(line) as { msg: string }).msg) });
    });
  });
}

let taken: Server;
let takenPort: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
});

test('a port in use: exit 1, one fatal line naming it', async () => {
  const { code, fatal } = await runGateway({ GATEWAY_PORT: String(takenPort) });
  expect(code).toBe(1);
  expect(fatal).toEqual([`gateway failed to start: cannot listen on 127.0.0.1:${takenPort}: the port is in use`]);
});

test('an unreadable supergraph: exit 1, one fatal line naming the file', async () => {
  const { code, fatal } = await runGateway({ GATEWAY_PORT: '0', SUPERGRAPH_SOURCE: 'file', SUPERGRAPH_PATH: '/nonexistent/supergraph.graphql' });
  expect(code).toBe(1);
  expect(fatal).toEqual(['gateway failed to start: cannot read the supergraph /nonexistent/supergraph.graphql: ENOENT']);
});

test('bad config: exit 1, one fatal line naming the setting', async () => {
  const { code, fatal } = await runGateway({ GATEWAY_PORT: '0', SUBGRAPH_URLS: '{"accounts": "not a url"}' });
  expect(code).toBe(1);
  expect(fatal).toEqual(['gateway failed to start: SUBGRAPH_URLS.accounts must be an http(s) URL, got "not a url"']);
});

test('a bad setting of a section (subscriptions, resilience, …): exit 1 before listening, one fatal line naming it', async () => {
  const { code, fatal } = await runGateway({ GATEWAY_PORT: String(takenPort), SUBSCRIPTIONS_PER_CONNECTION: '0' });
  expect(code).toBe(1);
  expect(fatal).toEqual(['gateway failed to start: SUBSCRIPTIONS_PER_CONNECTION must be between 1 and 10000, got 0']);
});
