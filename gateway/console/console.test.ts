import { readGatewayConfig } from '../config';
import { startGateway, type RunningGateway } from '../server';

/**
 * The console and GraphiQL as the gateway serves them (no subgraph is needed for static
 * pages): the console in every mode, GraphiQL only outside production, nothing from a CDN.
 */
let production: RunningGateway;
let development: RunningGateway;

beforeAll(async () => {
  const config = readGatewayConfig();
  production = await startGateway({ ...config, port: 0, production: true, jwt: { ...config.jwt, secret: 'a-production-like-secret-for-this-test-only' } });
  development = await startGateway({ ...config, port: 0, production: false });
});

afterAll(async () => {
  await production?.stop();
  await development?.stop();
});

const get = (gateway: RunningGateway, path: string) => fetch(`http://127.0.0.1:${gateway.port}${path}`);

/** Every src/href in a page: all must be paths on this gateway. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
}

test('serves the console at / in production, with its libraries from the gateway itself', async () => {
  const page = await get(production, '/');
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  const html = await page.text();
  expect(html).toContain('<title>paygraph console</title>');
  const urls = referencedUrls(html);
  expect(urls).toEqual(expect.arrayContaining(['/console/console.css', '/console/vendor/graphql-ws.js', '/console/console.js']));
  for (const url of urls) {
    expect(url).toMatch(/^(\/|data:)/);
    if (url.startsWith('/')) expect((await get(production, url)).status).toBe(200);
  }
  const wsBuild = await (await get(production, '/console/vendor/graphql-ws.js')).text();
  expect(wsBuild).toContain('graphqlWs');
});

test('GraphiQL is off in production', async () => {
  for (const path of ['/graphiql', '/graphiql/init.js', '/console/vendor/graphiql.js', '/console/vendor/react.js']) {
    expect((await get(production, path)).status).toBe(404);
  }
});

test('GraphiQL is bundled and served offline outside production', async () => {
  const page = await get(development, '/graphiql');
  expect(page.status).toBe(200);
  const urls = referencedUrls(await page.text());
  expect(urls).toEqual(expect.arrayContaining(['/console/vendor/react.js', '/console/vendor/react-dom.js', '/console/vendor/graphiql.js', '/console/vendor/graphiql.css']));
  for (const url of urls) {
    expect(url.startsWith('/')).toBe(true);
    const asset = await get(development, url);
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(100);
  }
});

test('outside production a browser opening /graphql lands on the bundled GraphiQL, not a CDN page', async () => {
  const landing = await fetch(`http://127.0.0.1:${development.port}/graphql`, { headers: { accept: 'text/html' } });
  expect(landing.status).toBe(200);
  const html = await landing.text();
  expect(html).toContain('url=/graphiql');
  expect(html).not.toMatch(/https?:\/\//);
});
