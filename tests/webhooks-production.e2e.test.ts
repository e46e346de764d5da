import { startTestStack, type TestStack } from './support/stack';

/**
 * The webhook URL rules of production, end to end: the whole stack with NODE_ENV=production
 * (so real secrets are required) refuses non-https URLs and hosts that are, or resolve to,
 * loopback, private, link-local or metadata addresses, at registration through the gateway.
 */
const SECRETS = {
  JWT_SECRET: 'webhooks-production-test-jwt-secret-0123456789',
  PAYGRAPH_INTERNAL_SECRET: 'webhooks-production-test-internal-secret-0123456789',
  PAYGRAPH_WEBHOOK_SECRET_KEY: '7f'.repeat(32),
};

let stack: TestStack;
beforeAll(async () => {
  // The test's own tokens are signed with the production JWT secret too.
  process.env.JWT_SECRET = SECRETS.JWT_SECRET;
  stack = await startTestStack({ NODE_ENV: 'production', ...SECRETS });
});
afterAll(async () => {
  await stack?.stop();
  delete process.env.JWT_SECRET;
});

const CREATE = 'mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { id url } }';

test.each([
  ['http://hooks.example.com/paygraph', 'https'],
  ['https://127.0.0.1/paygraph', 'loopback'],
  ['https://localhost:8443/paygraph', 'loopback'],
  ['https://[::1]/paygraph', 'loopback'],
  ['https://10.20.30.40/paygraph', 'private'],
  ['https://[::ffff:192.168.0.7]/paygraph', 'private'],
  ['https://169.254.10.1/paygraph', 'link-local'],
  ['https://169.254.169.254/latest/meta-data/', 'metadata'],
  ['https://0.0.0.0/paygraph', 'unspecified'],
])('%s is refused (%s)', async (url, reason) => {
  const result = await stack.graphql(CREATE, { i: { url } });
  expect(result.data).toBeNull();
  const extensions = result.errors?.[0]?.extensions as { code?: string; reason?: string };
  expect(extensions.code).toBe('BAD_USER_INPUT');
  if (reason !== 'https') expect(extensions.reason).toBe(reason);
});

test('an https URL on a public address is registered (and its secret is shown once)', async () => {
  const created = await stack.graphql<{ createWebhookEndpoint: { id: string; url: string } }>(CREATE.replace('id url', 'id url signingSecret'), { i: { url: 'https://93.184.216.34/paygraph' } });
  expect(created.errors).toBeUndefined();
  const { id } = created.data!.createWebhookEndpoint;
  const listed = await stack.graphql<{ webhookEndpoints: { id: string; signingSecret: string | null }[] }>('{ webhookEndpoints { id signingSecret } }');
  expect(listed.data!.webhookEndpoints).toContainEqual({ id, signingSecret: null });
  const deleted = await stack.graphql<{ deleteWebhookEndpoint: boolean }>('mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }', { id });
  expect(deleted.data!.deleteWebhookEndpoint).toBe(true);
});
