import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { badInput, forbidden, notFound, unauthenticated } from '../../runtime/errors';
import { hasScope, isAuthenticated, requireInternal, requireScope, type Identity } from '../../runtime/identity';
import { BigIntScalar, CurrencyScalar, DateTimeScalar } from '../../runtime/scalars';
import { decodeTimeCursor, encodeTimeCursor, pageSize, toConnection } from '../../runtime/connection';
import type { ComplianceContext } from './context';
import type { AmlCaseRecord, KycProfileRecord } from './repository';
import { parseId, type PaymentScreeningInput, type SubmitKycInput } from './service';

function parseNote(note: unknown): string | null {
  if (note === null || note === undefined) return null;
  if (typeof note !== 'string' || note.length > 2000) throw badInput('note must be at most 2000 characters', { field: 'note' });
  return note;
}

function requireStaff(identity: Identity, scope: 'compliance:review' | 'ops:admin'): void {
  requireScope(identity, scope);
  if (identity.customerId !== undefined) throw forbidden(`${scope} is for staff`);
}

/** A customer sees its own KYC profile; staff need accounts:read or compliance:review. */
function authoriseKyc(identity: Identity, customerId: string): void {
  if (identity.internal) return;
  if (!isAuthenticated(identity)) throw unauthenticated();
  if (identity.customerId !== undefined) {
    if (identity.customerId !== customerId) throw notFound('customer', customerId);
    return;
  }
  if (!hasScope(identity, 'accounts:read') && !hasScope(identity, 'compliance:review')) throw forbidden('missing scope accounts:read or compliance:review');
}

/**
 * Compliance checks are staff data: payments:read or compliance:review. A customer never
 * sees them, not even for its own payments: telling a customer it matched a sanctions list
 * would be tipping-off.
 */
function maySeeCheck(identity: Identity): boolean {
  if (identity.internal) return true;
  if (!isAuthenticated(identity)) throw unauthenticated();
  if (identity.customerId !== undefined) return false;
  if (hasScope(identity, 'payments:read') || hasScope(identity, 'compliance:review')) return true;
  throw forbidden('missing scope payments:read or compliance:review');
}

export const resolvers: GraphQLResolverMap<ComplianceContext> = {
  DateTime: DateTimeScalar,
  BigInt: BigIntScalar,
  Currency: CurrencyScalar,

  Customer: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    kyc: async (customer: { id: string }, _args, ctx) => {
      authoriseKyc(ctx.identity, customer.id);
      return ctx.loaders.profileByCustomerId.load(customer.id);
    },
  },

  KycProfile: {
    limits: (profile: KycProfileRecord, _args, ctx) => ctx.service.limitsFor(profile.tier),
  },

  Payment: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    complianceCheck: async (payment: { id: string }, _args, ctx) => {
      if (!maySeeCheck(ctx.identity)) return null;
      return ctx.loaders.checkByPaymentId.load(payment.id);
    },
  },

  Query: {
    amlCases: async (_root, args: { customerId?: string | null; first?: number | null; after?: string | null }, ctx) => {
      requireStaff(ctx.identity, 'compliance:review');
      const customerId = args.customerId == null ? null : parseId(args.customerId, 'customerId');
      const first = pageSize(args.first);
      const after = decodeTimeCursor(args.after);
      const rows = await ctx.service.repository.listCases(customerId, first + 1, after);
      const cases = rows.map((row: AmlCaseRecord) => ({ ...row, id: row._id }));
      return toConnection(cases, first, (node) => encodeTimeCursor(node.openedAt, node._id));
    },
    verifyAuditTrail: async (_root, _args, ctx) => {
      requireStaff(ctx.identity, 'ops:admin');
      return ctx.service.verifyAuditTrail();
    },
  },

  Mutation: {
    submitKyc: async (_root, args: { input: SubmitKycInput }, ctx) => {
      if (!isAuthenticated(ctx.identity)) throw unauthenticated();
      return ctx.service.submitKyc(ctx.identity, args.input);
    },
    reviewKyc: async (_root, args: { customerId: string; approve: boolean; note?: string | null }, ctx) => {
      requireStaff(ctx.identity, 'compliance:review');
      return ctx.service.reviewKyc(ctx.identity.subject, args.customerId, args.approve, parseNote(args.note));
    },
    resolveComplianceCheck: async (_root, args: { paymentId: string; status: string; note?: string | null }, ctx) => {
      requireStaff(ctx.identity, 'compliance:review');
      return ctx.service.resolveCheck(ctx.identity.subject, args.paymentId, args.status, parseNote(args.note));
    },
    preScreenPayment: async (_root, args: { input: PaymentScreeningInput }, ctx) => {
      requireInternal(ctx.identity);
      return ctx.service.preScreenPayment(args.input);
    },
    screenPayment: async (_root, args: { input: PaymentScreeningInput }, ctx) => {
      requireInternal(ctx.identity);
      return ctx.service.screenPayment(args.input);
    },
  },
};
