import { requireScope, type Identity } from '../../runtime/identity';
import { forbidden } from '../../runtime/errors';
import { toMoneyOutput } from '../../runtime/money';
import type { ApproverKeyDoc } from './approver-key-repository';
import type { PaymentsContext } from './context';
import { INSTRUCTION_VERSION, paymentInstruction } from './instruction';
import type { PaymentDoc } from './repository';

type Args = Record<string, unknown>;

/** Keys are staff business: an operator's token, never a customer's. */
function requireKeyOperator(identity: Identity): void {
  requireScope(identity, 'ops:admin');
  if (identity.customerId !== undefined && !identity.internal) throw forbidden('approver keys are managed by operators');
}

/** The GraphQL edge of signed approvals (signed-approvals.ts): thin, spread into resolvers.ts. */
export const signedApprovalResolvers = {
  Query: {
    verifyPaymentApprovals: (_: unknown, args: Args, ctx: PaymentsContext) => ctx.service.verifyPaymentApprovals(ctx.identity, args.id),
    approverKeys: (_: unknown, args: Args, ctx: PaymentsContext) => {
      requireScope(ctx.identity, 'payments:approve');
      if (ctx.identity.customerId !== undefined && !ctx.identity.internal) throw forbidden('approver keys are staff data');
      return ctx.service.signatures.listKeys({ approver: args.approver, includeRevoked: args.includeRevoked });
    },
  },
  Mutation: {
    registerApproverKey: (_: unknown, args: Args, ctx: PaymentsContext) => {
      requireKeyOperator(ctx.identity);
      return ctx.service.signatures.registerKey(ctx.identity, (args.input ?? {}) as Record<string, unknown>);
    },
    revokeApproverKey: (_: unknown, args: Args, ctx: PaymentsContext) => {
      requireKeyOperator(ctx.identity);
      return ctx.service.signatures.revokeKey(ctx.identity, args.keyId);
    },
  },
  /** Payment.approvalRequest: null unless the payment needs approval. */
  approvalRequest: (p: PaymentDoc, _: Args, ctx: PaymentsContext) => {
    if (p.requiredApprovals <= 0) return null;
    const { text, digest } = paymentInstruction(p);
    const policy = p.signaturePolicy ?? null;
    const bandFrom = policy ? toMoneyOutput({ minor: policy.bandFromUsdMinor, currency: 'USD' }) : null;
    return {
      digest,
      instruction: text,
      version: INSTRUCTION_VERSION,
      policy: {
        required: p.requiredApprovals,
        // Resolved only when asked for (a function here is called by the default resolver).
        of: () => ctx.service.signatures.eligibleApprovers(p.createdBy),
        signaturesRequired: policy !== null,
        band: bandFrom ? `USD ${bandFrom.amount} and above: ${policy!.required} signature${policy!.required === 1 ? '' : 's'}` : 'maker-checker',
        bandFrom,
      },
    };
  },
  ApproverKey: {
    id: (k: ApproverKeyDoc) => k._id,
    status: (k: ApproverKeyDoc) => (k.revokedAt ? 'REVOKED' : 'ACTIVE'),
  },
};
