import { randomBytes } from 'node:crypto';
import { badInput, forbidden, notFound } from '../../../runtime/errors';
import { requireScope, type Identity } from '../../../runtime/identity';
import type { Collaborators } from '../collaborators';
import { decodeEventCursor } from '../cursors';
import type { PaymentsRepository } from '../repository';
import { validateId } from '../rules';
import { isPaymentStatus, type PaymentStatus } from '../state-machine';
import type { WebhooksConfig } from './config';
import { testEventBody } from './event-body';
import { newSigningSecret, sealSecret } from './secret-box';
import { pad, type WebhookDeliveryDoc, type WebhookEndpointDoc, type WebhookStore } from './store';
import { checkWebhookUrl, type UrlPolicy } from './url-guard';

/** An endpoint as answered, with its signing secret on the one answer that shows it (create, rotate). */
export type EndpointView = WebhookEndpointDoc & { signingSecret?: string };

const MAX_DESCRIPTION = 500;
const TEXT = /^[^\u0000-\u001f\u007f]*$/;

function description(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_DESCRIPTION || !TEXT.test(value)) {
    throw badInput(`description must be at most ${MAX_DESCRIPTION} characters without control characters`, { field: 'description' });
  }
  return value;
}

function statuses(value: unknown): PaymentStatus[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 20 || !value.every(isPaymentStatus)) throw badInput('events must be payment statuses', { field: 'events' });
  return [...new Set(value as PaymentStatus[])];
}

/**
 * Managing webhook endpoints: a customer's token manages only its own customer's endpoints
 * (another's are NOT_FOUND), an operator's any. The secret is shown once and kept sealed.
 */
export class WebhookEndpoints {
  constructor(
    private readonly store: WebhookStore,
    private readonly payments: PaymentsRepository,
    private readonly collaborators: Collaborators,
    private readonly config: WebhooksConfig,
    /** Tells this process's dispatcher that an endpoint changed (its deliveries may go now). */
    private readonly poke: (endpointId: string) => void = () => {},
  ) {}

  private get policy(): UrlPolicy {
    return { httpsOnly: this.config.production, addressGuard: this.config.addressGuard, allowLoopback: this.config.allowLoopback };
  }

  /** The endpoint if this identity may manage it, else NOT_FOUND (never another customer's). */
  async visible(identity: Identity, id: unknown, field = 'id'): Promise<WebhookEndpointDoc> {
    const endpointId = validateId(id, field, 'whe_');
    const endpoint = await this.store.findEndpoint(endpointId);
    const mine = endpoint && (identity.internal || identity.customerId === undefined || endpoint.customerId === identity.customerId);
    if (!endpoint || !mine) throw notFound('webhook endpoint', endpointId);
    return endpoint;
  }

  list(identity: Identity): Promise<WebhookEndpointDoc[]> {
    requireScope(identity, 'payments:read');
    return this.store.listEndpoints(identity.internal ? undefined : identity.customerId);
  }

  /** Whose events an endpoint on `accountId` receives: the account's customer, which must be the caller's. */
  private async ownerOf(identity: Identity, accountId: string | null): Promise<string | null> {
    const own = identity.internal ? undefined : identity.customerId;
    if (accountId === null) return own ?? null;
    const [facts] = await this.collaborators.accountFacts([accountId]);
    if (!facts) throw notFound('account', accountId);
    if (own !== undefined && facts.customerId !== own) throw forbidden('not your account');
    return facts.customerId;
  }

  async create(identity: Identity, input: Record<string, unknown>): Promise<EndpointView> {
    requireScope(identity, 'payments:write');
    const url = await checkWebhookUrl(input.url, this.policy);
    const events = statuses(input.events);
    const accountId = input.accountId === undefined || input.accountId === null ? null : validateId(input.accountId, 'accountId');
    const text = description(input.description);
    const customerId = await this.ownerOf(identity, accountId);
    const id = `whe_${randomBytes(12).toString('hex')}`;
    const secret = newSigningSecret();
    const now = new Date();
    const doc: WebhookEndpointDoc = {
      _id: id, url: url.toString(), events, accountId, customerId, description: text, enabled: true, disabledReason: null,
      secrets: [{ sealed: sealSecret(this.config.secretKey, secret, id), createdAt: now, expiresAt: null }],
      // From now on: events already in the log are not sent (replayWebhookEvents sends them).
      cursor: await this.payments.lastSequence(),
      generation: 0, createdBy: identity.subject, createdAt: now, updatedAt: now,
    };
    await this.store.insertEndpoint(doc);
    return { ...doc, signingSecret: secret };
  }

  async update(identity: Identity, input: Record<string, unknown>): Promise<WebhookEndpointDoc> {
    requireScope(identity, 'payments:write');
    const endpoint = await this.visible(identity, input.id);
    const set: Partial<WebhookEndpointDoc> = {};
    if (input.url !== undefined && input.url !== null) set.url = (await checkWebhookUrl(input.url, this.policy)).toString();
    if (input.events !== undefined && input.events !== null) set.events = statuses(input.events);
    if (input.description !== undefined) set.description = description(input.description);
    if (input.enabled !== undefined && input.enabled !== null) {
      if (typeof input.enabled !== 'boolean') throw badInput('enabled must be a boolean', { field: 'enabled' });
      set.enabled = input.enabled;
      if (input.enabled) set.disabledReason = null;
      else if (endpoint.enabled) set.disabledReason = `disabled by ${identity.subject}`;
    }
    const updated = await this.store.updateEndpoint(endpoint._id, set);
    if (!updated) throw notFound('webhook endpoint', endpoint._id);
    this.poke(endpoint._id);
    return updated;
  }

  /** A new secret signs from now on; the previous one also signs until the grace period ends. */
  async rotate(identity: Identity, id: unknown): Promise<EndpointView> {
    requireScope(identity, 'payments:write');
    for (let tries = 0; tries < 5; tries++) {
      const endpoint = await this.visible(identity, id);
      const now = new Date();
      const graceEnds = new Date(now.getTime() + this.config.rotationGraceMs);
      const secret = newSigningSecret();
      const kept = endpoint.secrets
        .filter((s) => s.expiresAt === null || s.expiresAt > now)
        .map((s) => ({ ...s, expiresAt: s.expiresAt === null || s.expiresAt > graceEnds ? graceEnds : s.expiresAt }));
      const secrets = [...kept, { sealed: sealSecret(this.config.secretKey, secret, endpoint._id), createdAt: now, expiresAt: null }];
      if (await this.store.replaceSecrets(endpoint, secrets)) return { ...(await this.visible(identity, id)), signingSecret: secret };
    }
    throw new Error('the endpoint kept changing while its secret was rotated');
  }

  async delete(identity: Identity, id: unknown): Promise<boolean> {
    requireScope(identity, 'payments:write');
    const endpoint = await this.visible(identity, id);
    return this.store.deleteEndpoint(endpoint._id);
  }

  /** Queues every event after the cursor again (a new generation: sent again even if delivered before). */
  async replay(identity: Identity, endpointId: unknown, after: unknown): Promise<WebhookEndpointDoc> {
    requireScope(identity, 'payments:write');
    const from = after === undefined || after === null ? 0 : decodeEventCursor(after);
    for (let tries = 0; tries < 5; tries++) {
      const endpoint = await this.visible(identity, endpointId, 'endpointId');
      if (await this.store.restartFrom(endpoint, from)) {
        this.poke(endpoint._id);
        return this.visible(identity, endpointId, 'endpointId');
      }
    }
    throw new Error('the endpoint kept changing while a replay was started');
  }

  async sendTest(identity: Identity, endpointId: unknown): Promise<WebhookDeliveryDoc> {
    requireScope(identity, 'payments:write');
    const endpoint = await this.visible(identity, endpointId, 'endpointId');
    const now = new Date();
    const eventId = `test_${randomBytes(12).toString('hex')}`;
    const orderKey = `${pad(endpoint.generation, 6)}:t${pad(now.getTime(), 15)}${eventId.slice(5, 13)}`;
    const doc: WebhookDeliveryDoc = {
      _id: `${endpoint._id}:${orderKey}`, endpointId: endpoint._id, generation: endpoint.generation, orderKey, eventId, sequence: null, paymentId: null,
      type: 'webhook.test', body: testEventBody(eventId, now), occurredAt: now, state: 'pending', attemptCount: 0, nextAttemptAt: now,
      firstAttemptAt: null, deliveredAt: null, createdAt: now,
    };
    await this.store.insertDelivery(doc);
    // Dispatchers keep a copy of each endpoint's queue: the endpoint's updatedAt moving makes them read it again.
    await this.store.touchEndpoint(endpoint._id);
    this.poke(endpoint._id);
    return doc;
  }

  /** The attempts of deliveries already authorised (a page of webhookDeliveries). */
  attemptsOf(deliveryIds: string[]) {
    return this.store.attemptsOf(deliveryIds);
  }

  async deliveries(identity: Identity, endpointId: unknown, after: string | undefined, limit: number): Promise<WebhookDeliveryDoc[]> {
    requireScope(identity, 'payments:read');
    const endpoint = await this.visible(identity, endpointId, 'endpointId');
    return this.store.deliveriesPage(endpoint._id, after, limit);
  }
}
