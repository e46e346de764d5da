import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { pageSize, toConnection } from '../../runtime/connection';
import { badInput } from '../../runtime/errors';
import { requireInternal, requireScope } from '../../runtime/identity';
import { toMoneyOutput } from '../../runtime/money';
import { scalarResolvers } from '../../runtime/scalars';
import { canSeeAccountDoc, canSeeCustomerDoc } from './access';
import type { AccountsContext } from './context';
import { isAccountId, isCustomerId, requireAccountId } from './ids';
import { ledgerCursor, parseLedgerCursor, validateTransferId, type SystemAccountPurpose } from './ledger';
import type { AccountDoc, CustomerDoc, LedgerEntryDoc } from './repository';
import { availableBalanceFields, holdMutations } from './hold-resolvers';

async function visibleCustomer(ctx: AccountsContext, id: unknown): Promise<CustomerDoc | null> {
  if (!isCustomerId(id)) return null;
  const customer = await ctx.loaders.customerById.load(id);
  return customer && canSeeCustomerDoc(ctx.identity, customer) ? customer : null;
}

async function visibleAccount(ctx: AccountsContext, id: unknown): Promise<AccountDoc | null> {
  if (!isAccountId(id)) return null;
  const account = await ctx.loaders.accountById.load(id);
  return account && canSeeAccountDoc(ctx.identity, account) ? account : null;
}

/** What an AccountFacts is resolved from; its balance is read only when asked for. */
interface AccountFactsSource {
  account: AccountDoc;
  customer: CustomerDoc;
}

interface PostTransferArgs {
  input: { transferId: string; paymentId?: string | null; debitAccountId: string; creditAccountId: string; amountMinor: bigint; currency: string };
}

export const accountsResolvers = {
  ...scalarResolvers,

  Query: {
    customer: (_: unknown, args: { id: string }, ctx: AccountsContext) => {
      requireScope(ctx.identity, 'accounts:read');
      return visibleCustomer(ctx, args.id);
    },
    account: (_: unknown, args: { id: string }, ctx: AccountsContext) => {
      requireScope(ctx.identity, 'accounts:read');
      return visibleAccount(ctx, args.id);
    },
    accountFacts: async (_: unknown, args: { ids: string[] }, ctx: AccountsContext) => {
      requireInternal(ctx.identity);
      if (args.ids.length > 500) throw badInput('at most 500 ids at once', { field: 'ids' });
      const accounts = await Promise.all(args.ids.map((id) => (isAccountId(id) ? ctx.loaders.accountById.load(id) : null)));
      return Promise.all(
        accounts.map(async (account): Promise<AccountFactsSource | null> => {
          // The bank's own accounts have no customer to describe.
          if (!account || account.customerId === null) return null;
          const customer = await ctx.loaders.customerById.load(account.customerId);
          return customer ? { account, customer } : null;
        }),
      );
    },
    systemAccountId: (_: unknown, args: { purpose: SystemAccountPurpose; currency: string }, ctx: AccountsContext) => {
      requireInternal(ctx.identity);
      return ctx.ledger.systemAccountId(args.purpose, args.currency);
    },
  },

  Mutation: {
    createCustomer: (_: unknown, args: { input: { name: string; email: string; country: string } }, ctx: AccountsContext) => {
      requireScope(ctx.identity, 'accounts:write');
      return ctx.onboarding.createCustomer(ctx.identity, args.input);
    },
    openAccount: (_: unknown, args: { input: { customerId: string; currency: string } }, ctx: AccountsContext) => {
      requireScope(ctx.identity, 'accounts:write');
      return ctx.onboarding.openAccount(ctx.identity, args.input);
    },
    depositFunds: (
      _: unknown,
      args: { input: { accountId: string; amount: { amount: string; currency: string }; idempotencyKey: string } },
      ctx: AccountsContext,
    ) => {
      requireScope(ctx.identity, 'accounts:write');
      return ctx.deposits.depositFunds(ctx.identity, args.input);
    },
    ...holdMutations,
    postTransfer: (_: unknown, args: PostTransferArgs, ctx: AccountsContext) => {
      requireInternal(ctx.identity);
      const { input } = args;
      return ctx.ledger.postTransfer({
        transferId: validateTransferId(input.transferId),
        paymentId: input.paymentId == null ? null : validateTransferId(input.paymentId, 'paymentId'),
        debitAccountId: requireAccountId(input.debitAccountId, 'debitAccountId'),
        creditAccountId: requireAccountId(input.creditAccountId, 'creditAccountId'),
        amountMinor: input.amountMinor,
        currency: input.currency,
      });
    },
  },

  Customer: {
    __resolveReference: (reference: { id?: unknown }, ctx: AccountsContext) => visibleCustomer(ctx, reference.id),
    id: (customer: CustomerDoc) => customer._id,
    accounts: (customer: CustomerDoc, _: unknown, ctx: AccountsContext) => ctx.loaders.accountsByCustomerId.load(customer._id),
  },

  Account: {
    __resolveReference: (reference: { id?: unknown }, ctx: AccountsContext) => visibleAccount(ctx, reference.id),
    id: (account: AccountDoc) => account._id,
    customer: (account: AccountDoc, _: unknown, ctx: AccountsContext) =>
      account.customerId === null ? null : ctx.loaders.customerById.load(account.customerId),
    balance: async (account: AccountDoc, _: unknown, ctx: AccountsContext) =>
      toMoneyOutput({ minor: await ctx.loaders.balanceByAccountId.load(account._id), currency: account.currency }),
    ...availableBalanceFields,
    ledger: async (account: AccountDoc, args: { first?: number | null; after?: string | null }, ctx: AccountsContext) => {
      const first = pageSize(args.first);
      const before = parseLedgerCursor(args.after);
      const rows = await ctx.repository.ledgerPage(account._id, before, first + 1);
      return toConnection(rows, first, (entry) => ledgerCursor(entry.sequence));
    },
  },

  AccountFacts: {
    id: ({ account }: AccountFactsSource) => account._id,
    customerId: ({ customer }: AccountFactsSource) => customer._id,
    customerName: ({ customer }: AccountFactsSource) => customer.name,
    customerCountry: ({ customer }: AccountFactsSource) => customer.country,
    currency: ({ account }: AccountFactsSource) => account.currency,
    status: ({ account }: AccountFactsSource) => account.status,
    balanceMinor: ({ account }: AccountFactsSource, _: unknown, ctx: AccountsContext) => ctx.loaders.balanceByAccountId.load(account._id),
    createdAt: ({ account }: AccountFactsSource) => account.createdAt,
  },

  LedgerEntry: {
    id: (entry: LedgerEntryDoc) => entry._id,
    amount: (entry: LedgerEntryDoc) => toMoneyOutput({ minor: entry.amountMinor, currency: entry.currency }),
    balanceAfter: (entry: LedgerEntryDoc) => toMoneyOutput({ minor: entry.balanceAfterMinor, currency: entry.currency }),
  },
} satisfies GraphQLResolverMap<AccountsContext> as unknown as GraphQLResolverMap<AccountsContext>;
