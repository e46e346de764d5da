import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput, forbidden, unauthenticated } from '../../runtime/errors';
import { canSeeCustomer, hasScope, isAuthenticated, requireInternal, requireScope, type Identity } from '../../runtime/identity';
import { BigIntScalar, CurrencyScalar, DateTimeScalar } from '../../runtime/scalars';
import { mapAsyncIterator, type RiskAlertRecord } from './alerts';
import type { AssessPaymentInput } from './assessments';
import { decodeTimeCursor, encodeTimeCursor, pageSize, toConnection } from '../../runtime/connection';
import type { RiskContext } from './context';
import type { AssessmentRecord } from './repository';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
function parseId(value: unknown, field: string): string {
  if (typeof value !== 'string' || !ID.test(value)) throw badInput(`${field} is not a valid id`, { field });
  return value;
}

/** Staff with payments:read or risk:review see assessments; a customer only its own payments'. */
function maySeeAssessment(identity: Identity, assessment: AssessmentRecord): boolean {
  if (identity.internal) return true;
  if (!isAuthenticated(identity)) throw unauthenticated();
  if (identity.customerId !== undefined) return canSeeCustomer(identity, assessment.customerId) && hasScope(identity, 'payments:read');
  if (hasScope(identity, 'payments:read') || hasScope(identity, 'risk:review')) return true;
  throw forbidden('missing scope payments:read or risk:review');
}

export const resolvers: GraphQLResolverMap<RiskContext> = {
  DateTime: DateTimeScalar,
  BigInt: BigIntScalar,
  Currency: CurrencyScalar,

  Payment: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    riskAssessment: async (payment: { id: string }, _args, ctx) => {
      const assessment = await ctx.loaders.assessmentByPaymentId.load(payment.id);
      if (!assessment || !maySeeAssessment(ctx.identity, assessment)) return null;
      return assessment;
    },
  },

  RiskAssessment: {
    decision: (a: AssessmentRecord) => a.review?.decision ?? a.decision,
    payment: (a: AssessmentRecord) => ({ __typename: 'Payment', id: a.paymentId }),
    review: (a: AssessmentRecord) => a.review,
  },

  RiskAlert: {
    payment: (a: RiskAlertRecord) => ({ __typename: 'Payment', id: a.paymentId }),
  },

  Query: {
    riskReviewQueue: async (_root, args: { first?: number | null; after?: string | null }, ctx) => {
      requireScope(ctx.identity, 'risk:review');
      if (ctx.identity.customerId !== undefined) throw forbidden('the review queue is for operators');
      const first = pageSize(args.first);
      const after = decodeTimeCursor(args.after);
      const rows = await ctx.repository.reviewQueue(first + 1, after && { assessedAt: after.at, id: after.id });
      return toConnection(rows, first, (node) => encodeTimeCursor(node.assessedAt, node._id));
    },
  },

  Mutation: {
    assessPayment: async (_root, args: { input: AssessPaymentInput }, ctx) => {
      requireInternal(ctx.identity);
      return ctx.service.assessPayment(args.input);
    },
    reviewRiskAssessment: async (_root, args: { paymentId: string; decision: 'APPROVE' | 'REVIEW' | 'DECLINE'; note?: string | null }, ctx) => {
      requireScope(ctx.identity, 'risk:review');
      if (ctx.identity.customerId !== undefined) throw forbidden('reviews are for operators');
      const paymentId = parseId(args.paymentId, 'paymentId');
      if (args.note != null && args.note.length > 2000) throw badInput('note must be at most 2000 characters', { field: 'note' });
      return ctx.service.reviewAssessment(paymentId, args.decision, args.note ?? null, ctx.identity.subject);
    },
  },

  Subscription: {
    riskAlertRaised: {
      subscribe: (_root: unknown, _args: unknown, ctx: RiskContext) => {
        requireScope(ctx.identity, 'risk:review');
        if (ctx.identity.customerId !== undefined) throw forbidden('risk alerts are for operators');
        return mapAsyncIterator(ctx.alerts.subscribe(), (alert) => ({ riskAlertRaised: alert }));
      },
    },
  },
};
