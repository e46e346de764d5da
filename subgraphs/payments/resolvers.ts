import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { requireScope } from '../../runtime/identity';
import { badInput } from '../../runtime/errors';
import { toMoneyOutput } from '../../runtime/money';
import { scalarResolvers } from '../../runtime/scalars';
import type { PaymentsContext } from './context';
import { decodeEventCursor, decodePaymentCursor, encodeEventCursor, encodePaymentCursor, validateFirst } from './cursors';
import { canSeePayment } from './payment-service';
import { signedApprovalResolvers } from './approval-resolvers';
import { fxOutput } from './fx-quote';
import type { PaymentDoc, PaymentEventDoc } from './repository';
import { validateId } from './rules';
import { isPaymentStatus } from './state-machine';
import { subscribePaymentStatusChanged } from './subscriptions';
import { webhookResolvers } from './webhooks';

type Args = Record<string, unknown>;

/** A page by ids is a handful of point reads; a bound keeps it one. */
const MAX_FILTER_IDS = 100;

function connection(docs: PaymentDoc[], limit: number) {
  const page = docs.slice(0, limit);
  return {
    edges: page.map((node) => ({ cursor: encodePaymentCursor(node._id), node })),
    pageInfo: { hasNextPage: docs.length > limit, endCursor: page.length ? encodePaymentCursor(page[page.length - 1]._id) : null },
  };
}

function customerScope(ctx: PaymentsContext): string | undefined {
  return ctx.identity.internal ? undefined : ctx.identity.customerId;
}

async function visibleById(id: string, ctx: PaymentsContext): Promise<PaymentDoc | null> {
  const p = await ctx.loaders.payment.load(id);
  return p && canSeePayment(ctx.identity, p) ? p : null;
}

/** Thin: parse, authorise, call the domain, shape the result. */
export const resolvers: GraphQLResolverMap<PaymentsContext> = {
  Decimal: scalarResolvers.Decimal,
  BigInt: scalarResolvers.BigInt,
  DateTime: scalarResolvers.DateTime,
  Currency: scalarResolvers.Currency,

  Query: {
    payment: async (_: unknown, args: Args, ctx: PaymentsContext) => {
      requireScope(ctx.identity, 'payments:read');
      return visibleById(validateId(args.id, 'id'), ctx);
    },
    payments: async (_: unknown, args: Args, ctx: PaymentsContext) => {
      requireScope(ctx.identity, 'payments:read');
      const limit = validateFirst(args.first);
      const filter = (args.filter ?? {}) as { status?: unknown; accountId?: unknown; ids?: unknown };
      const statuses = filter.status === undefined || filter.status === null ? undefined : (filter.status as unknown[]);
      if (statuses && !statuses.every(isPaymentStatus)) throw badInput('unknown payment status', { field: 'filter.status' });
      const accountId = filter.accountId === undefined || filter.accountId === null ? undefined : validateId(filter.accountId, 'filter.accountId');
      const ids = filter.ids === undefined || filter.ids === null ? undefined : (filter.ids as unknown[]);
      if (ids && ids.length > MAX_FILTER_IDS) throw badInput(`filter.ids takes at most ${MAX_FILTER_IDS} ids`, { field: 'filter.ids' });
      const beforeId = args.after === undefined || args.after === null ? undefined : decodePaymentCursor(args.after);
      const docs = await ctx.repository.listPayments({
        accountId, customerId: customerScope(ctx), statuses: statuses as string[] | undefined, beforeId, ids: ids?.map((id) => validateId(id, 'filter.ids', 'pay_')),
      }, limit + 1);
      return connection(docs, limit);
    },
    fxQuote: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.service.fxQuote(ctx.identity, args),
    ...signedApprovalResolvers.Query,
    ...webhookResolvers.Query,
    paymentEventsAfter: async (_: unknown, args: Args, ctx: PaymentsContext) => {
      requireScope(ctx.identity, 'payments:read');
      const first = validateFirst(args.first, 100);
      const after = args.after === undefined || args.after === null ? 0 : decodeEventCursor(args.after);
      const customerId = customerScope(ctx);
      return ctx.repository.eventsAfter(after, customerId ? { customerId } : {}, first);
    },
  },

  Mutation: {
    createPayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.service.createPayment(ctx.identity, (args.input ?? {}) as Record<string, unknown>),
    approvePayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.service.approvePayment(ctx.identity, args.id, { signature: args.signature, keyId: args.keyId }),
    ...signedApprovalResolvers.Mutation,
    ...webhookResolvers.Mutation,
    rejectPayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.service.rejectPayment(ctx.identity, args.id, args.reason),
    authorizePayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.holds.authorizePayment(ctx.identity, (args.input ?? {}) as Record<string, unknown>),
    capturePayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.holds.capturePayment(ctx.identity, args.id, args.amount),
    voidPayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.holds.voidPayment(ctx.identity, args.id),
    cancelPayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.service.cancelPayment(ctx.identity, args.id),
    refundPayment: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.service.refundPayment(ctx.identity, (args.input ?? {}) as Record<string, unknown>),
    continuePayment: (_: unknown, args: Args, ctx: PaymentsContext) => {
      if (!ctx.identity.internal) requireScope(ctx.identity, 'ops:admin');
      return ctx.service.continuePayment(args.id);
    },
  },

  Subscription: {
    paymentStatusChanged: {
      subscribe: (_: unknown, args: Args, ctx: PaymentsContext) => subscribePaymentStatusChanged(args, ctx),
      resolve: (event: PaymentEventDoc) => event,
    },
  },

  Account: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    payments: async (account: { id: string }, args: Args, ctx: PaymentsContext) => {
      requireScope(ctx.identity, 'payments:read');
      const limit = validateFirst(args.first);
      const beforeId = args.after === undefined || args.after === null ? undefined : decodePaymentCursor(args.after);
      const docs = await ctx.loaders.accountPayments.load({ accountId: account.id, customerId: customerScope(ctx), limit: limit + 1, beforeId });
      return connection(docs, limit);
    },
  },

  Payment: {
    __resolveReference: (ref: { id: string }, ctx: PaymentsContext) => (typeof ref.id === 'string' ? visibleById(ref.id, ctx) : null),
    id: (p: PaymentDoc) => p._id,
    amount: (p: PaymentDoc) => toMoneyOutput({ minor: p.amountMinor, currency: p.currency }),
    source: (p: PaymentDoc) => ({ id: p.sourceAccountId }),
    destination: (p: PaymentDoc) => (p.destinationAccountId ? { id: p.destinationAccountId } : null),
    events: (p: PaymentDoc, _: Args, ctx: PaymentsContext) => ctx.loaders.eventsOfPayment.load(p._id),
    fx: (p: PaymentDoc) => p.fx && fxOutput(p.fx),
    refundedAmount: (p: PaymentDoc) => toMoneyOutput({ minor: p.refundedMinor, currency: p.currency }),
    authorization: (p: PaymentDoc) =>
      p.authorization && {
        expiresAt: p.authorization.expiresAt,
        capturedAmount: p.authorization.capturedMinor === null ? null : toMoneyOutput({ minor: p.authorization.capturedMinor, currency: p.currency }),
      },
    approvalRequest: signedApprovalResolvers.approvalRequest,
  },

  ApproverKey: signedApprovalResolvers.ApproverKey,
  WebhookEndpoint: webhookResolvers.WebhookEndpoint,
  WebhookDelivery: webhookResolvers.WebhookDelivery,
  WebhookAttempt: webhookResolvers.WebhookAttempt,

  PaymentEvent: {
    cursor: (e: PaymentEventDoc) => encodeEventCursor(e.sequence),
    // A subscription keeps one context for its lifetime: read the payment fresh per event.
    payment: async (e: PaymentEventDoc, _: Args, ctx: PaymentsContext) => {
      if (ctx.requestId === 'ws') ctx.loaders.payment.clear(e.paymentId);
      return ctx.loaders.payment.load(e.paymentId);
    },
  },
};
