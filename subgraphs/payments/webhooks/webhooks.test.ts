import { signatureHeader, verifySignature } from './signer';
import { newSigningSecret, openSecret, sealSecret } from './secret-box';
import { nextAttemptAt } from './schedule';
import { classifyAddress, checkWebhookUrl, resolveTarget, type UrlPolicy } from './url-guard';
import { sendableNow } from './dispatcher';
import type { WebhookAttemptDoc, WebhookDeliveryDoc, WebhookEndpointDoc } from './store';
import type { PaymentEventDoc } from '../repository';
import { endpointWants } from './fan-out';
import { randomBytes } from 'node:crypto';
import { DeliveryQueues } from './delivery-queues';
import { mergeAttempts } from './attempt-history';

describe('signer', () => {
  const body = JSON.stringify({ id: 'ZXZ0OjE', type: 'payment.settled' });
  const now = Date.UTC(2026, 11, 4, 19, 0, 0);
  const t = Math.floor(now / 1000);

  test('a receiver holding either secret verifies a rotation-time signature', () => {
    const header = signatureHeader(['old-secret', 'new-secret'], body, t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifySignature(header, body, 'old-secret', now)).toBe(true);
    expect(verifySignature(header, body, 'new-secret', now)).toBe(true);
    expect(verifySignature(header, body, 'other-secret', now)).toBe(false);
  });

  test('a changed body, a changed timestamp or a stale timestamp is refused', () => {
    const header = signatureHeader(['s'], body, t);
    expect(verifySignature(header, `${body} `, 's', now)).toBe(false);
    expect(verifySignature(header.replace(`t=${t}`, `t=${t + 1}`), body, 's', now)).toBe(false);
    expect(verifySignature(header, body, 's', now + 301_000)).toBe(false);
    expect(verifySignature(header, body, 's', now + 299_000)).toBe(true);
    expect(verifySignature('v1=abc', body, 's', now)).toBe(false);
  });
});

describe('secret box', () => {
  const key = randomBytes(32);
  test('opens what it sealed, for the same endpoint and key only', () => {
    const secret = newSigningSecret();
    const sealed = sealSecret(key, secret, 'whe_a');
    expect(sealed.data).not.toContain(secret);
    expect(openSecret(key, sealed, 'whe_a')).toBe(secret);
    expect(() => openSecret(key, sealed, 'whe_b')).toThrow();
    expect(() => openSecret(randomBytes(32), sealed, 'whe_a')).toThrow();
  });
});

describe('retry schedule', () => {
  const schedule = { baseMs: 1000, maxMs: 8000, giveUpAfterMs: 60_000 };
  const first = new Date(0);
  test('doubles per attempt within [half, whole] of the capped delay', () => {
    const low = () => 0;
    const high = () => 1;
    expect(nextAttemptAt(schedule, 1, first, first, low)!.getTime()).toBe(500);
    expect(nextAttemptAt(schedule, 1, first, first, high)!.getTime()).toBe(1000);
    expect(nextAttemptAt(schedule, 3, first, first, high)!.getTime()).toBe(4000);
    expect(nextAttemptAt(schedule, 10, first, first, high)!.getTime()).toBe(8000);
    expect(nextAttemptAt(schedule, 10, first, first, low)!.getTime()).toBe(4000);
  });
  test('gives up once the next attempt would fall past the give-up age', () => {
    expect(nextAttemptAt(schedule, 5, first, new Date(51_000), () => 1)).toEqual(new Date(59_000));
    expect(nextAttemptAt(schedule, 5, first, new Date(53_000), () => 1)).toBeNull();
  });
});

describe('address classification', () => {
  test.each([
    ['127.0.0.1', 'loopback'], ['127.9.9.9', 'loopback'], ['::1', 'loopback'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:c0a8:7', 'private'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['fd12::1', 'private'], ['100.64.0.1', 'private'],
    ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'], ['fd00:ec2::254', 'metadata'], ['::ffff:169.254.169.254', 'metadata'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['224.0.0.1', 'reserved'], ['192.0.2.1', 'reserved'],
    ['93.184.216.34', 'public'], ['172.32.0.1', 'public'], ['2606:4700::1111', 'public'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });
});

describe('URL guard', () => {
  const production: UrlPolicy = { httpsOnly: true, addressGuard: true, allowLoopback: false };
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: { extensions?: { code?: string; reason?: string } }) => `${e.extensions?.code}:${e.extensions?.reason ?? ''}`);

  test('production refuses http, credentials, and hosts resolving anywhere but public addresses', async () => {
    expect(await codeOf(checkWebhookUrl('http://hooks.example.com/x', production, async () => [{ address: '93.184.216.34', family: 4 }]))).toBe('BAD_USER_INPUT:');
    expect(await codeOf(checkWebhookUrl('https://u:p@hooks.example.com/x', production))).toBe('BAD_USER_INPUT:');
    expect(await codeOf(checkWebhookUrl('https://127.0.0.1/x', production))).toBe('BAD_USER_INPUT:loopback');
    expect(await codeOf(checkWebhookUrl('https://[::1]/x', production))).toBe('BAD_USER_INPUT:loopback');
    expect(await codeOf(checkWebhookUrl('https://169.254.169.254/latest/meta-data', production))).toBe('BAD_USER_INPUT:metadata');
    expect(await codeOf(checkWebhookUrl('https://localhost/x', production))).toBe('BAD_USER_INPUT:loopback');
    // One private answer among public ones is enough to refuse (the dialled one could be it).
    const mixed = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }];
    expect(await codeOf(checkWebhookUrl('https://rebind.example.com/x', production, mixed))).toBe('BAD_USER_INPUT:private');
    expect(await codeOf(checkWebhookUrl('https://hooks.example.com/x', production, async () => [{ address: '93.184.216.34', family: 4 }]))).toBe('ok');
    expect(await codeOf(checkWebhookUrl('not a url', production))).toBe('BAD_USER_INPUT:');
  });

  test('the loopback setting lets loopback through and nothing else', async () => {
    const tests: UrlPolicy = { ...production, allowLoopback: true };
    expect(await codeOf(checkWebhookUrl('https://127.0.0.1:8443/x', tests))).toBe('ok');
    expect(await codeOf(checkWebhookUrl('https://10.0.0.1/x', tests))).toBe('BAD_USER_INPUT:private');
  });

  test('the checked address is the one dialled', async () => {
    const target = await resolveTarget(new URL('https://hooks.example.com/x'), production, async () => [{ address: '93.184.216.34', family: 4 }]);
    expect(target).toMatchObject({ address: '93.184.216.34', family: 4 });
  });
});

describe('sending order', () => {
  const at = (ms: number) => new Date(ms);
  const delivery = (id: string, paymentId: string | null, next: number): WebhookDeliveryDoc => ({
    _id: id, endpointId: 'whe_x', generation: 0, orderKey: id, eventId: id, sequence: 1, paymentId, type: 'payment.settled', body: '{}',
    occurredAt: at(0), state: 'pending', attemptCount: 0, nextAttemptAt: at(next), firstAttemptAt: null, deliveredAt: null, createdAt: at(0),
  });

  test('only the first pending delivery of a payment may go; other payments do not wait for it', () => {
    const pending = [delivery('1', 'pay_a', 500), delivery('2', 'pay_a', 0), delivery('3', 'pay_b', 0), delivery('4', null, 0), delivery('5', 'pay_b', 0)];
    const { due, nextAt } = sendableNow(pending, at(100));
    expect(due.map((d) => d._id)).toEqual(['3', '4']);
    expect(nextAt).toEqual(at(500));
  });
});

describe('which events an endpoint receives', () => {
  const endpoint = (over: Partial<WebhookEndpointDoc>): WebhookEndpointDoc => ({
    _id: 'whe_x', url: 'https://x.example', events: [], accountId: null, customerId: null, description: null, enabled: true, disabledReason: null,
    secrets: [], cursor: 10, generation: 0, createdBy: 'ops', createdAt: new Date(0), updatedAt: new Date(0), ...over,
  });
  const event = (over: Partial<PaymentEventDoc>): PaymentEventDoc => ({
    _id: 'pay_a:1', sequence: 11, paymentId: 'pay_a', number: 1, status: 'SETTLED', previousStatus: 'PROCESSING', occurredAt: new Date(0),
    accountIds: ['acc_1', 'acc_2'], customerIds: ['cus_1', 'cus_2'], ...over,
  });

  test('after its cursor, its customer\'s, its account\'s, the statuses it asked for', () => {
    expect(endpointWants(endpoint({}), event({}))).toBe(true);
    expect(endpointWants(endpoint({}), event({ sequence: 10 }))).toBe(false);
    expect(endpointWants(endpoint({ customerId: 'cus_2' }), event({}))).toBe(true);
    expect(endpointWants(endpoint({ customerId: 'cus_3' }), event({}))).toBe(false);
    expect(endpointWants(endpoint({ accountId: 'acc_3' }), event({}))).toBe(false);
    expect(endpointWants(endpoint({ events: ['FAILED'] }), event({}))).toBe(false);
    expect(endpointWants(endpoint({ events: ['FAILED', 'SETTLED'] }), event({}))).toBe(true);
  });
});

describe('a dispatcher\'s copy of an endpoint\'s queue', () => {
  const at = (ms: number) => new Date(ms);
  const delivery = (seq: number, paymentId: string | null): WebhookDeliveryDoc => ({
    _id: `whe_x:${seq}`, endpointId: 'whe_x', generation: 0, orderKey: String(seq).padStart(4, '0'), eventId: String(seq), sequence: seq, paymentId, type: 'payment.settled', body: '{}',
    occurredAt: at(0), state: 'pending', attemptCount: 0, nextAttemptAt: at(0), firstAttemptAt: null, deliveredAt: null, createdAt: at(0),
  });
  const endpoint = (cursor: number, updatedAt = 0) => ({ _id: 'whe_x', cursor, generation: 0, updatedAt: at(updatedAt) }) as WebhookEndpointDoc;
  const timings = { page: 3, pollMs: 100, reloadMs: 1000, keepOutcomesMs: 60_000 };
  const ids = (q: DeliveryQueues) => q.pending('whe_x').map((d) => d._id);

  test('outcomes written here patch the copy; deliveries queued here join it; no read is needed for either', () => {
    const q = new DeliveryQueues(timings);
    expect(q.needsRead(endpoint(10), 0)).toBe(true);
    q.loaded('whe_x', endpoint(10), [delivery(1, 'pay_a'), delivery(2, 'pay_a')], 0);
    q.recorded(delivery(1, 'pay_a'), { state: 'delivered', attemptCount: 1, nextAttemptAt: at(0) }, 5);
    expect(ids(q)).toEqual(['whe_x:2']);
    q.queued('whe_x', endpoint(10), 12, [delivery(12, 'pay_b'), delivery(11, 'pay_a')]);
    expect(ids(q)).toEqual(['whe_x:2', 'whe_x:11', 'whe_x:12']);
    expect(q.needsRead(endpoint(12), 10)).toBe(false);
    q.recorded(delivery(2, 'pay_a'), { state: 'pending', attemptCount: 1, nextAttemptAt: at(500) }, 10);
    const { due } = sendableNow(q.pending('whe_x'), at(20));
    // pay_a's next event waits behind its retrying one; pay_b's goes.
    expect(due.map((d) => d._id)).toEqual(['whe_x:12']);
    // A complete copy is read again after a while anyway.
    expect(q.needsRead(endpoint(12), 1000)).toBe(true);
  });

  test('read again when something else moved the endpoint, or a claim was refused', () => {
    const q = new DeliveryQueues(timings);
    q.loaded('whe_x', endpoint(10), [delivery(1, 'pay_a')], 0);
    expect(q.needsRead(endpoint(11), 1)).toBe(true); // another process queued and moved the cursor
    expect(q.needsRead(endpoint(10, 7), 1)).toBe(true); // a test event, a replay, an update
    q.heldElsewhere(delivery(1, 'pay_a'), 100);
    expect(sendableNow(q.pending('whe_x'), at(50)).due).toEqual([]);
    expect(q.needsRead(endpoint(10), 99)).toBe(false);
    expect(q.needsRead(endpoint(10), 100)).toBe(true);
    // Queued here against a copy read at another cursor: the copy is dropped, not patched.
    q.queued('whe_x', endpoint(9), 12, [delivery(12, 'pay_b')]);
    expect(q.needsRead(endpoint(12), 1)).toBe(true);
  });

  test('a read that started before an outcome written here does not bring the delivery back', () => {
    const q = new DeliveryQueues(timings);
    q.recorded(delivery(1, 'pay_a'), { state: 'delivered', attemptCount: 1, nextAttemptAt: at(0) }, 5);
    q.recorded(delivery(2, 'pay_a'), { state: 'pending', attemptCount: 2, nextAttemptAt: at(900) }, 5);
    q.loaded('whe_x', endpoint(10), [delivery(1, 'pay_a'), { ...delivery(2, 'pay_a'), attemptCount: 1 }], 0);
    expect(q.pending('whe_x').map((d) => [d._id, d.attemptCount, d.nextAttemptAt.getTime()])).toEqual([['whe_x:2', 2, 900]]);
  });

  test('a full page is a prefix: what this process queues is left to the next read', () => {
    const q = new DeliveryQueues(timings);
    q.loaded('whe_x', endpoint(10), [delivery(1, 'pay_a'), delivery(2, 'pay_b'), delivery(3, 'pay_c')], 0);
    q.queued('whe_x', endpoint(10), 11, [delivery(11, 'pay_d')]);
    expect(ids(q)).toEqual(['whe_x:1', 'whe_x:2', 'whe_x:3']);
    expect(q.needsRead(endpoint(11), 100)).toBe(true);
  });
});

describe('attempts as the graph shows them', () => {
  test('each lease with the result its delivery recorded; a lease without one is in flight or abandoned', () => {
    const lease = (n: number, over: Partial<WebhookAttemptDoc> = {}): WebhookAttemptDoc => ({
      _id: `d1#${n}`, deliveryId: 'd1', endpointId: 'whe_x', number: n, owner: 'whd_a', startedAt: new Date(n * 1000), leaseUntil: new Date(n * 1000 + 60_000),
      finishedAt: null, ok: false, statusCode: null, latencyMs: null, error: null, ...over,
    });
    const merged = mergeAttempts([lease(1, { finishedAt: new Date(1500), error: 'abandoned: …' }), lease(2), lease(3)], [{
      _id: 'd1', endpointId: 'whe_x',
      attemptResults: [{ number: 2, startedAt: new Date(2000), finishedAt: new Date(2100), ok: false, statusCode: 500, latencyMs: 100, error: 'HTTP 500' }],
    }]);
    expect(merged.map((a) => [a.number, a.statusCode, a.error, a.finishedAt?.getTime() ?? null])).toEqual([[1, null, 'abandoned: …', 1500], [2, 500, 'HTTP 500', 2100], [3, null, null, null]]);
  });
});
