import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { signDevToken } from '../runtime/dev-token';
import { graphqlRequest } from '../scripts/gateway-client';
import { collectLogLines } from './support/log-lines';
import { openCustomerAccount, startTestStack, type TestStack } from './support/stack';

/**
 * The console in a real browser: Debian's Chromium (scripts/install-browser.sh) driven by
 * playwright-core, which never downloads one. A payment created over HTTP must appear live
 * in the feed; screenshots at phone and desktop widths must show a page, not a blank.
 */
const CHROMIUM = process.env.PAYGRAPH_CHROMIUM ?? '/usr/bin/chromium';
const OUTPUT = join(__dirname, '..', 'test-output', 'console');

let stack: TestStack;
let context: BrowserContext;
let page: Page;
let origin: string;
let userDataDir: string;
const outsideRequests: string[] = [];
const logs = new Map<string, ReturnType<typeof collectLogLines>>();

/** A request's data through the gateway (the operator's token unless given another); errors throw. */
const data: TestStack['data'] = (query, variables, token) => stack.data(query, variables, token);

const account = (name: string, deposit: string, tier = 'VERIFIED') => openCustomerAccount(stack, name, deposit, tier);

/** A screenshot "shows something" when it has many colours and is not one flat background. */
function pictureStats(file: string): { width: number; height: number; colours: number; nonBackground: number } {
  const png = PNG.sync.read(readFileSync(file));
  const counts = new Map<number, number>();
  for (let i = 0; i < png.data.length; i += 4) {
    // 4 bits per channel: anti-aliasing noise does not count as variety.
    const key = ((png.data[i] >> 4) << 8) | ((png.data[i + 1] >> 4) << 4) | (png.data[i + 2] >> 4);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const pixels = png.width * png.height;
  const background = Math.max(...counts.values());
  return { width: png.width, height: png.height, colours: counts.size, nonBackground: (pixels - background) / pixels };
}

async function screenshot(name: string): Promise<string> {
  const file = join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  // Tracing is off here (no OTLP endpoint): the last test checks ids still cross processes.
  // From 10,000 USD approvals are signed, two of them (the signed-approval test).
  stack = await startTestStack({ LOG_LEVEL: 'info', PAYGRAPH_SIGNED_APPROVAL_BANDS: '10000.00:2' }, { stdio: 'pipe' });
  for (const [name, child] of stack.processes) {
    logs.set(name, collectLogLines(child.stdout));
    child.stderr?.resume();
  }
  origin = new URL(stack.gatewayUrl).origin;
  userDataDir = mkdtempSync(join(tmpdir(), 'paygraph-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
  });
  // The console may reach the gateway and nothing else.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:')) return route.continue();
    outsideRequests.push(url);
    return route.abort();
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await stack?.stop();
});

test('a payment created over HTTP appears live in the feed; the page renders at phone and desktop widths', async () => {
  const source = await account('Ines Livefeed', '2000.00');
  const destination = await account('Tomas Watcher', '0');
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto(`${origin}/#token=${stack.operatorToken}`);
  await page.waitForSelector('#connection[data-state="live"]');
  // The token leaves the address bar at once (kept in sessionStorage only).
  expect(page.url()).toBe(`${origin}/`);

  const created = await graphqlRequest<{ createPayment: { id: string } }>(
    stack.gatewayUrl,
    'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }',
    { i: { idempotencyKey: `console-${Date.now()}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '1234.50', currency: 'USD' }, reference: 'Console demo' } },
    stack.operatorToken,
  );
  expect(created.errors).toBeUndefined();
  const id = created.data!.createPayment.id;

  const item = page.locator(`.feed-item[data-payment-id="${id}"][data-status="SETTLED"]`);
  await item.waitFor();
  await expect(item.innerText()).resolves.toMatch(/1,234\.50\s*USD[\s\S]*Ines Livefeed\s*→\s*Tomas Watcher[\s\S]*risk\s*Low[\s\S]*compliance\s*Clear/);

  // Its detail: fields from all four subgraphs and the event timeline.
  await item.click();
  const detail = page.locator(`.detail-panel[data-payment-id="${id}"]`);
  await detail.waitFor();
  const timeline = detail.locator('.timeline li');
  await expect(timeline.count()).resolves.toBeGreaterThanOrEqual(2);
  await expect(timeline.last().innerText()).resolves.toContain('Settled');
  await expect(detail.innerText()).resolves.toMatch(/Console demo[\s\S]*Ines Livefeed[\s\S]*KYC Verified[\s\S]*Low[\s\S]*Clear/);

  const desktop = await screenshot('desktop-1440x900');
  await page.setViewportSize({ width: 390, height: 844 });
  const phoneDetail = await screenshot('phone-390x844-detail');
  await page.click('.back');
  await page.locator(`.feed-item[data-payment-id="${id}"]`).waitFor();
  const phone = await screenshot('phone-390x844-feed');

  for (const [file, width, height] of [[desktop, 1440, 900], [phoneDetail, 390, 844], [phone, 390, 844]] as const) {
    const stats = pictureStats(file);
    expect({ width: stats.width, height: stats.height }).toEqual({ width, height });
    expect(stats.colours).toBeGreaterThan(20);
    expect(stats.nonBackground).toBeGreaterThan(0.1);
  }
  // Nothing horizontal scrolls on a phone.
  await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390);

  // The live delivery was measured on the way.
  const metrics = await (await fetch(stack.subgraphUrls.payments.replace(/\/graphql$/, '/metrics'))).text();
  expect(Number(/^paygraph_event_delivery_lag_seconds_count (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
  // The console's feed holds a subscription open through the gateway to payments.
  expect(Number(/^paygraph_payment_event_streams (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);

  expect(errors).toEqual([]);
  expect(outsideRequests).toEqual([]);
});

test('the review queue lets an operator with risk:review decide a held payment', async () => {
  // Large, round and from a new account: risk holds it for review (see subgraphs/risk/rules.json).
  const source = await account('Rita Reviewer', '60000.00', 'ENHANCED');
  const destination = await account('Nils Newcomer', '0');
  const created = await data<{ createPayment: { id: string; status: string } }>(
    'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }',
    { i: { idempotencyKey: `review-${Date.now()}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '50000.00', currency: 'USD' } } },
  );
  expect(created.createPayment.status).toBe('REQUIRES_REVIEW');
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('.tab[data-view="review"]');
  const queued = page.locator(`#risk-queue [data-payment-id="${created.createPayment.id}"]`);
  await queued.waitFor();
  await screenshot('desktop-1440x900-review');
  await queued.locator('button.approve').click();
  await queued.waitFor({ state: 'detached' });
  const { payment } = await data<{ payment: { riskAssessment: { review: { reviewer: string; decision: string } } } }>(
    'query($id: ID!) { payment(id: $id) { riskAssessment { review { reviewer decision } } } }',
    { id: created.createPayment.id },
  );
  expect(payment.riskAssessment.review).toEqual({ reviewer: 'test-operator', decision: 'APPROVE' });
});

test('the approval queue signs with WebCrypto Ed25519 in the browser, and that signature releases the payment', async () => {
  const REGISTER = 'mutation($i: RegisterApproverKeyInput!) { registerApproverKey(input: $i) { id } }';
  const operatorKey = generateKeyPairSync('ed25519');
  const checkerKey = generateKeyPairSync('ed25519');
  const spki = (key: typeof operatorKey) => key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const operatorKeyId = (await data(REGISTER, { i: { approver: 'test-operator', publicKey: spki(operatorKey) } })).registerApproverKey.id as string;
  const checkerKeyId = (await data(REGISTER, { i: { approver: 'checker', publicKey: spki(checkerKey) } })).registerApproverKey.id as string;
  const maker = await signDevToken({ sub: 'maker', scope: 'payments:read payments:write' });
  const checker = await signDevToken({ sub: 'checker', scope: 'payments:read payments:approve' });

  // 12,345.67 from a new account: low enough risk to go straight to approvals, in the 2-signature band.
  const source = await account('Sigrid Signer', '20000.00', 'ENHANCED');
  const destination = await account('Paulo Payee', '0');
  const created = await graphqlRequest<{ createPayment: { id: string; status: string } }>(stack.gatewayUrl, 'mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id status } }', {
    i: { idempotencyKey: `signed-${Date.now()}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '12345.67', currency: 'USD' } },
  }, maker);
  expect(created.data?.createPayment.status).toBe('REQUIRES_APPROVAL');
  const id = created.data!.createPayment.id;

  // The checker signs first, from Node.
  const { payment: request } = await data('query($id: ID!) { payment(id: $id) { approvalRequest { digest } } }', { id });
  const digest = request.approvalRequest.digest as string;
  const checked = await graphqlRequest(stack.gatewayUrl, 'mutation($id: ID!, $s: String, $k: ID) { approvePayment(id: $id, signature: $s, keyId: $k) { status } }', {
    id, s: sign(null, Buffer.from(digest, 'hex'), checkerKey.privateKey).toString('base64'), k: checkerKeyId,
  }, checker);
  expect(checked.data?.approvePayment.status).toBe('REQUIRES_APPROVAL');

  await page.goto(`${origin}/#token=${stack.operatorToken}`);
  await page.waitForSelector('#connection[data-state="live"]');
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('.tab[data-view="review"]');
  const queued = page.locator(`#approval-queue [data-payment-id="${id}"]`);
  // The queue as it is now (the console may also be reloading it for the creation's event).
  await page.locator(`#approval-queue [data-payment-id="${id}"]`, { hasText: '1 of 2 signatures' }).waitFor();

  // Without a key the console refuses to send an unsigned approval.
  await queued.locator('button.approve').click();
  await page.locator('#toast', { hasText: 'needs a signed approval' }).waitFor();

  // The operator's key, pasted as PKCS#8 PEM, is imported into memory and the text cleared.
  await page.fill('#signing-key-id', operatorKeyId);
  await page.fill('#signing-key', operatorKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  await page.click('#signing-key-form button[type="submit"]');
  await page.locator('#signing-key-status', { hasText: operatorKeyId }).waitFor();
  await expect(page.inputValue('#signing-key')).resolves.toBe('');
  await screenshot('desktop-1440x900-signing');

  await queued.locator('button.approve').click();
  await queued.waitFor({ state: 'detached' });
  const { payment } = await data('query($id: ID!) { payment(id: $id) { status approvals { approver keyId digest } destination { balance { amount } } } }', { id });
  expect(payment).toEqual({
    status: 'SETTLED',
    approvals: [{ approver: 'checker', keyId: checkerKeyId, digest }, { approver: 'test-operator', keyId: operatorKeyId, digest }],
    destination: { balance: { amount: '12345.67' } },
  });
  const { verifyPaymentApprovals } = await data('query($id: ID!) { verifyPaymentApprovals(id: $id) { satisfied approvals { approver valid } } }', { id });
  expect(verifyPaymentApprovals).toEqual({ satisfied: true, approvals: [{ approver: 'checker', valid: true }, { approver: 'test-operator', valid: true }] });
  // The private key was never stored by the page.
  const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
  expect(stored).not.toContain('PRIVATE KEY');
  expect(outsideRequests).toEqual([]);
});

test('an account shows its balance and ledger', async () => {
  const id = await account('Lena Ledger', '250.75');
  await page.click('.tab[data-view="accounts"]');
  await page.fill('#account-id', id);
  await page.click('#account-form button[type="submit"]');
  const card = page.locator(`.account-card[data-account-id="${id}"]`);
  await card.waitFor();
  await expect(card.locator('.balance').innerText()).resolves.toMatch(/250\.75\s*USD/);
  await expect(card.locator('.ledger tbody tr').first().innerText()).resolves.toMatch(/Credit[\s\S]*\+250\.75 USD/);
});

test("a browser's EventSource receives payment events over /graphql/stream (single connection mode)", async () => {
  const source = await account('Edda Eventsource', '300.00');
  const destination = await account('Paul Listener', '0');
  await page.goto(`${origin}/healthz`); // same origin as the stream, nothing else loaded
  const query = 'subscription($a: ID) { paymentStatusChanged(accountId: $a) { cursor status payment { id amount { amount } source { customer { name } } } } }';
  // An EventSource cannot send an Authorization header: the stream is reserved with one (PUT),
  // opened by the EventSource with its token in the URL, and the operation started with a POST.
  const started = await page.evaluate(async ({ token, query, variables }) => {
    const authorization = `Bearer ${token}`;
    const reserved = await fetch('/graphql/stream', { method: 'PUT', headers: { authorization } });
    const streamToken = await reserved.text();
    const messages: unknown[] = [];
    const events = new EventSource(`/graphql/stream?token=${encodeURIComponent(streamToken)}`);
    (window as unknown as { sse: unknown }).sse = { messages, events };
    events.addEventListener('next', (event) => messages.push(JSON.parse((event as MessageEvent<string>).data)));
    await new Promise((resolve, reject) => {
      events.onopen = resolve;
      events.onerror = () => reject(new Error('the event stream did not open'));
    });
    const operation = await fetch('/graphql/stream', {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', 'x-graphql-event-stream-token': streamToken },
      body: JSON.stringify({ query, variables, extensions: { operationId: 'feed' } }),
    });
    return { reserved: reserved.status, operation: operation.status };
  }, { token: stack.operatorToken, query, variables: { a: source } });
  expect(started).toEqual({ reserved: 201, operation: 202 });

  const { createPayment } = await data<{ createPayment: { id: string } }>('mutation($i: CreatePaymentInput!) { createPayment(input: $i) { id } }', {
    i: { idempotencyKey: `eventsource-${Date.now()}`, sourceAccountId: source, destinationAccountId: destination, amount: { amount: '12.34', currency: 'USD' } },
  });
  type Message = { id: string; payload: { data: { paymentStatusChanged: { status: string; payment: { id: string; amount: { amount: string }; source: { customer: { name: string } } } } } } };
  await page.waitForFunction(() => ((window as unknown as { sse: { messages: Message[] } }).sse.messages).some((m) => m.payload.data?.paymentStatusChanged.status === 'SETTLED'));
  const messages = await page.evaluate(() => {
    const { messages, events } = (window as unknown as { sse: { messages: Message[]; events: EventSource } }).sse;
    events.close();
    return messages;
  });
  expect(messages.map((m) => m.id)).toEqual(messages.map(() => 'feed'));
  expect(messages.map((m) => m.payload.data.paymentStatusChanged.status)).toEqual(['PENDING', 'PROCESSING', 'SETTLED']);
  for (const m of messages) {
    expect(m.payload.data.paymentStatusChanged.payment).toEqual({ id: createPayment.id, amount: { amount: '12.34' }, source: { customer: { name: 'Edda Eventsource' } } });
  }
});

test('GraphiQL runs a query offline, from the gateway alone', async () => {
  await page.goto(`${origin}/graphiql`);
  await page.locator('.graphiql-execute-button').click();
  await page.locator('.result-window').getByText('"edges"').waitFor();
  expect(outsideRequests).toEqual([]);
});

test('without an OTLP endpoint the request id and the caller trace id still reach the subgraphs logs', async () => {
  const traceId = randomBytes(16).toString('hex');
  const requestId = `console-${randomBytes(4).toString('hex')}`;
  const result = await graphqlRequest(stack.gatewayUrl, 'query Probe { payments(first: 1) { edges { node { id } } } }', {}, stack.operatorToken, {
    'x-request-id': requestId,
    traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
  });
  expect(result.errors).toBeUndefined();
  for (const name of ['gateway', 'payments']) {
    const deadline = Date.now() + 10_000;
    let line: Record<string, unknown> | undefined;
    while (!(line = logs.get(name)!.lines.find((l) => l.requestId === requestId && l.msg === 'graphql request')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(line).toMatchObject({ traceId, operation: 'Probe' });
  }
});
