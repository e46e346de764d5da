import { badInput } from '../../../runtime/errors';
import { encodeEventCursor, validateFirst } from '../cursors';
import type { PaymentsContext } from '../context';
import type { EndpointView, WebhookEndpoints } from './endpoints';
import type { WebhookAttemptDoc, WebhookDeliveryDoc } from './store';

type Args = Record<string, unknown>;

/** What the webhook resolvers need from the request context (the payments subgraph adds `webhooks`). */
type Context = PaymentsContext & { webhooks: WebhookEndpoints };

function encodeDeliveryCursor(id: string): string {
  return Buffer.from(`whd:${id}`).toString('base64url');
}

function decodeDeliveryCursor(cursor: unknown): string | undefined {
  if (cursor === undefined || cursor === null) return undefined;
  if (typeof cursor !== 'string' || cursor.length > 200) throw badInput('after is not a valid cursor', { field: 'after' });
  const match = /^whd:(whe_[0-9a-f]{24}:[0-9a-z:]{1,60})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw badInput('after is not a valid cursor', { field: 'after' });
  return match[1];
}

type DeliveryNode = WebhookDeliveryDoc & { attempts: WebhookAttemptDoc[] };

/** Thin: parse, authorise (in WebhookEndpoints), shape. */
export const webhookResolvers = {
  Query: {
    webhookEndpoints: (_: unknown, _args: Args, ctx: Context) => ctx.webhooks.list(ctx.identity),
    webhookDeliveries: async (_: unknown, args: Args, ctx: Context) => {
      const limit = validateFirst(args.first);
      const docs = await ctx.webhooks.deliveries(ctx.identity, args.endpointId, decodeDeliveryCursor(args.after), limit + 1);
      const page = docs.slice(0, limit);
      const attempts = page.length ? await ctx.webhooks.attemptsOf(page.map((d) => d._id)) : [];
      const nodes: DeliveryNode[] = page.map((d) => ({ ...d, attempts: attempts.filter((a) => a.deliveryId === d._id) }));
      return {
        edges: nodes.map((node) => ({ cursor: encodeDeliveryCursor(node._id), node })),
        pageInfo: { hasNextPage: docs.length > limit, endCursor: page.length ? encodeDeliveryCursor(page[page.length - 1]._id) : null },
      };
    },
  },
  Mutation: {
    createWebhookEndpoint: (_: unknown, args: Args, ctx: Context) => ctx.webhooks.create(ctx.identity, (args.input ?? {}) as Record<string, unknown>),
    updateWebhookEndpoint: (_: unknown, args: Args, ctx: Context) => ctx.webhooks.update(ctx.identity, (args.input ?? {}) as Record<string, unknown>),
    rotateWebhookSecret: (_: unknown, args: Args, ctx: Context) => ctx.webhooks.rotate(ctx.identity, args.id),
    deleteWebhookEndpoint: (_: unknown, args: Args, ctx: Context) => ctx.webhooks.delete(ctx.identity, args.id),
    replayWebhookEvents: (_: unknown, args: Args, ctx: Context) => ctx.webhooks.replay(ctx.identity, args.endpointId, args.after),
    sendTestWebhookEvent: async (_: unknown, args: Args, ctx: Context): Promise<DeliveryNode> => ({ ...(await ctx.webhooks.sendTest(ctx.identity, args.endpointId)), attempts: [] }),
  },
  WebhookEndpoint: {
    id: (e: EndpointView) => e._id,
    signingSecret: (e: EndpointView) => e.signingSecret ?? null,
    cursor: (e: EndpointView) => encodeEventCursor(e.cursor),
    secretRotationEndsAt: (e: EndpointView) => e.secrets.find((s) => s.expiresAt !== null && s.expiresAt > new Date())?.expiresAt ?? null,
  },
  WebhookDelivery: {
    id: (d: DeliveryNode) => d._id,
    status: (d: DeliveryNode) => d.state.toUpperCase(),
    nextAttemptAt: (d: DeliveryNode) => (d.state === 'pending' ? d.nextAttemptAt : null),
  },
  WebhookAttempt: {
    at: (a: WebhookAttemptDoc) => a.startedAt,
  },
};
