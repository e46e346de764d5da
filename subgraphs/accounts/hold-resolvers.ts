import { badInput } from '../../runtime/errors';
import { requireInternal } from '../../runtime/identity';
import { toMoneyOutput } from '../../runtime/money';
import type { AccountsContext } from './context';
import { requireAccountId } from './ids';
import { availableOf, validateTransferId } from './ledger';
import type { AccountDoc } from './repository';

/** The holds part of the accounts edge (thin: parse, authorise, call HoldLedger). */

function requireAmount(value: unknown): bigint {
  if (typeof value !== 'bigint') throw badInput('amountMinor must be a whole number of minor units', { field: 'amountMinor' });
  return value;
}

export const holdMutations = {
  placeHold: (_: unknown, args: { input: { paymentId: string; accountId: string; amountMinor: bigint; currency: string } }, ctx: AccountsContext) => {
    requireInternal(ctx.identity);
    const { input } = args;
    return ctx.holds.placeHold({
      paymentId: validateTransferId(input.paymentId, 'paymentId'),
      accountId: requireAccountId(input.accountId),
      amountMinor: requireAmount(input.amountMinor),
      currency: input.currency,
    });
  },
  captureHold: (_: unknown, args: { input: { paymentId: string; creditAccountId: string; amountMinor: bigint } }, ctx: AccountsContext) => {
    requireInternal(ctx.identity);
    const { input } = args;
    return ctx.holds.captureHold({
      paymentId: validateTransferId(input.paymentId, 'paymentId'),
      creditAccountId: requireAccountId(input.creditAccountId, 'creditAccountId'),
      amountMinor: requireAmount(input.amountMinor),
    });
  },
  releaseHold: (_: unknown, args: { paymentId: string }, ctx: AccountsContext) => {
    requireInternal(ctx.identity);
    return ctx.holds.releaseHold(validateTransferId(args.paymentId, 'paymentId'));
  },
};

/**
 * Account.availableBalance and pendingBalance, from the newest entry: its posted and available
 * balances are one record's, so pending (posted − available) is never a mix of two moments.
 */
export const availableBalanceFields = {
  availableBalance: async (account: AccountDoc, _: unknown, ctx: AccountsContext) =>
    toMoneyOutput({ minor: availableOf(await ctx.loaders.positionByAccountId.load(account._id)), currency: account.currency }),
  pendingBalance: async (account: AccountDoc, _: unknown, ctx: AccountsContext) => {
    const position = await ctx.loaders.positionByAccountId.load(account._id);
    return toMoneyOutput({ minor: (position?.balanceAfterMinor ?? 0n) - availableOf(position), currency: account.currency });
  },
};
