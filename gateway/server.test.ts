import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { signDevToken, ALL_SCOPES } from '../runtime/dev-token';
import { readGatewayConfig } from './config';
import { startGateway, type RunningGateway } from './server';

/**
 * The gateway in production mode behind TLS, with a self-signed pair made here: HTTPS and WSS
 * on one port; no introspection, no field suggestions, no landing page, no stack traces.
 * (No subgraph is needed: everything asserted is decided at the gateway.)
 */
let gateway: RunningGateway;
let ca: Buffer;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paygraph-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'cert.pem'));
  const config = readGatewayConfig();
  gateway = await startGateway({
    ...config,
    port: 0,
    production: true,
    jwt: { ...config.jwt, secret: 'a-production-like-secret-for-this-test-only' },
    tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
  });
});

afterAll(async () => {
  await gateway?.stop();
});

function https(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gateway.port, path, method, ca, servername: 'localhost', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('serves GraphQL over HTTPS', async () => {
  const { status, text } = await https('POST', '/graphql', JSON.stringify({ query: '{ __typename }' }));
  expect(status).toBe(200);
  expect(JSON.parse(text)).toEqual({ data: { __typename: 'Query' } });
});

test('refuses introspection in production', async () => {
  const { text } = await https('POST', '/graphql', JSON.stringify({ query: '{ __schema { types { name } } }' }));
  const body = JSON.parse(text);
  expect(body.data).toBeUndefined();
  expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(JSON.stringify(body)).not.toContain('stacktrace');
});

test('gives no field suggestions and no stack traces in production', async () => {
  const { text } = await https('POST', '/graphql', JSON.stringify({ query: '{ paymnt(id: "x") { id } }' }));
  const body = JSON.parse(text);
  expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  expect(body.errors[0].message).not.toMatch(/did you mean/i);
  expect(JSON.stringify(body)).not.toContain('stacktrace');
});

test('shows no landing page in production', async () => {
  const { status, text } = await https('GET', '/graphql', undefined, { accept: 'text/html' });
  expect(text).not.toMatch(/<html/i);
  expect(status).toBeGreaterThanOrEqual(400);
});

test('serves graphql-ws over WSS on the same port', async () => {
  const token = await signDevToken({ sub: 'ops', scope: ALL_SCOPES });
  // The gateway verifies with the secret configured above; a dev-secret token is refused…
  const refused = await wssHandshake({ authorization: `Bearer ${token}` });
  expect(refused).toEqual({ closeCode: 4403 });
  // …and one signed with the configured secret is acknowledged.
  expect(await wssHandshake({ authorization: `Bearer ${await tokenForThisGateway()}` })).toEqual({ ack: true });
});

test('applies the request limits to subscriptions too', async () => {
  const token = await tokenForThisGateway();
  let selection = 'status';
  for (let i = 0; i < 20; i++) selection = `payment { events { ${selection} } }`;
  const deep = `subscription { paymentStatusChanged(paymentId: "pay_x") { ${selection} } }`;
  const aliases = `subscription { paymentStatusChanged(paymentId: "pay_x") { ${Array.from({ length: 40 }, (_, i) => `a${i}: cursor`).join(' ')} } }`;
  expect(await subscribeOverWss(token, deep)).toEqual(['OPERATION_NOT_ALLOWED']); // depth (validation, before cost is estimated)
  expect(await subscribeOverWss(token, aliases)).toEqual(['OPERATION_NOT_ALLOWED']);
  // Within the depth limit, over MAX_COST (demand control: 10 events per payment assumed, four levels deep).
  const costly = 'subscription { paymentStatusChanged(paymentId: "pay_x") { payment { events { payment { events { payment { events { payment { events { status } } } } } } } } } }';
  expect(await subscribeOverWss(token, costly)).toEqual(['OPERATION_NOT_ALLOWED']);
});

async function tokenForThisGateway(): Promise<string> {
  const previous = process.env.JWT_SECRET;
  process.env.JWT_SECRET = 'a-production-like-secret-for-this-test-only';
  try {
    return await signDevToken({ sub: 'ops', scope: ALL_SCOPES });
  } finally {
    if (previous === undefined) delete process.env.JWT_SECRET;
    else process.env.JWT_SECRET = previous;
  }
}

/** Subscribes once over WSS and returns the codes of the `error` message it gets. */
function subscribeOverWss(token: string, query: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`wss://localhost:${gateway.port}/graphql`, 'graphql-transport-ws', { ca });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
      if (message.type === 'error') {
        resolve(message.payload.map((e: { extensions?: { code?: string } }) => e.extensions?.code));
        socket.close();
      }
    });
    socket.on('close', (code) => reject(new Error(`closed with ${code} before an error message`)));
    socket.on('error', reject);
  });
}

function wssHandshake(payload: Record<string, string>): Promise<{ ack: true } | { closeCode: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`wss://localhost:${gateway.port}/graphql`, 'graphql-transport-ws', { ca });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') {
        resolve({ ack: true });
        socket.close();
      }
    });
    socket.on('close', (code) => resolve({ closeCode: code }));
    socket.on('error', reject);
  });
}

describe('a gateway in trusted-documents mode with a tight rate limit', () => {
  let strict: RunningGateway;
  const document = 'query Ping { __typename }';
  const hash = createHash('sha256').update(document).digest('hex');

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paygraph-trusted-'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ [hash]: document }));
    const config = readGatewayConfig();
    strict = await startGateway({ ...config, port: 0, trustedDocumentsPath: join(dir, 'manifest.json'), rateLimit: { perSecond: 1, burst: 3 } });
  });

  afterAll(async () => {
    await strict?.stop();
  });

  const post = async (body: unknown, token?: string) => {
    const response = await fetch(strict.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const payload = (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    return { status: response.status, data: payload.data, code: payload.errors?.[0]?.extensions?.code };
  };

  test('runs a trusted document by its hash and refuses anything else', async () => {
    const token = await signDevToken({ sub: 'trusted-client', scope: 'payments:read' });
    expect(await post({ documentId: `sha256:${hash}` }, token)).toEqual({ status: 200, data: { __typename: 'Query' }, code: undefined });
    expect(await post({ query: document }, token)).toMatchObject({ status: 400, code: 'OPERATION_NOT_ALLOWED' });
    expect(await post({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }, token)).toMatchObject({ code: 'OPERATION_NOT_ALLOWED' });
  });

  test('limits each identity to its rate, independently of others', async () => {
    const busy = await signDevToken({ sub: 'busy-client', scope: 'payments:read' });
    const calm = await signDevToken({ sub: 'calm-client', scope: 'payments:read' });
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await post({ documentId: hash }, busy)).code);
    expect(codes.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(codes.slice(3)).toEqual(['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED']);
    expect(await post({ documentId: hash }, calm)).toMatchObject({ status: 200, code: undefined });
  });
});
