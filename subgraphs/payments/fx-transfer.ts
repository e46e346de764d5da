import { badInput } from '../../runtime/errors';
import type { Collaborators, TransferInput } from './collaborators';
import type { FxQuote } from './fx';

/**
 * How a payment with a locked FX quote moves money: two ledger transfers, one per currency,
 * through the house's FX position accounts (the accounts subgraph's FX_POSITION system
 * account of each currency, created on first use and allowed to go negative), so each
 * currency's entries balance on their own:
 *
 *   fx-in   source account         → FX_POSITION(source currency)   sourceMinor
 *   fx-out  FX_POSITION(target)    → destination account            targetMinor
 *           (a payout to a beneficiary: → EXTERNAL_SETTLEMENT(target) instead)
 *
 * Each leg's transfer id is `<paymentId>:fx-in` / `<paymentId>:fx-out`: posting a leg again
 * posts nothing, so a saga resumed between the legs posts exactly the missing one.
 */
export const FX_IN = 'fx-in';
export const FX_OUT = 'fx-out';

export interface FxPayment {
  _id: string;
  sourceAccountId: string;
  destinationAccountId: string | null;
  fx: FxQuote;
}

/** The house accounts an FX payment's legs go through. */
export interface FxLegAccounts {
  positionIn: string;
  positionOut: string;
  /** The destination account, or the external settlement account of a payout. */
  payee: string;
}

/** The two legs, in posting order (pure). */
export function fxLegs(p: FxPayment, accounts: FxLegAccounts): [TransferInput, TransferInput] {
  const { fx } = p;
  return [
    { transferId: `${p._id}:${FX_IN}`, paymentId: p._id, debitAccountId: p.sourceAccountId, creditAccountId: accounts.positionIn, amountMinor: fx.sourceMinor, currency: fx.sourceCurrency },
    { transferId: `${p._id}:${FX_OUT}`, paymentId: p._id, debitAccountId: accounts.positionOut, creditAccountId: accounts.payee, amountMinor: fx.targetMinor, currency: fx.targetCurrency },
  ];
}

/** The second leg was refused for good (the destination frozen or closed since creation): `cause` says why. */
export class SecondLegRefused extends Error {
  constructor(override readonly cause: unknown) {
    super('the second leg of a cross-currency transfer was refused');
  }
}

/**
 * Posts both legs. A second leg refused for good is reported as SecondLegRefused, and the
 * saga records that the first leg is to be reversed before it reverses it (reverseFirstLeg):
 * a resumed payment with that record never posts the second leg, so a crash between the
 * reversal and the FAILED status cannot pay the destination as well.
 */
export async function postFxLegs(p: FxPayment, collaborators: Collaborators, isFinal: (error: unknown) => boolean, afterFirstLeg: () => void): Promise<void> {
  const accounts = await fxLegAccounts(p, collaborators);
  const [fxIn, fxOut] = fxLegs(p, accounts);
  await collaborators.postTransfer(fxIn);
  afterFirstLeg();
  try {
    await collaborators.postTransfer(fxOut);
  } catch (error) {
    throw isFinal(error) ? new SecondLegRefused(error) : error;
  }
}

/**
 * Pays the first leg back (`<paymentId>:fx-in:reversal`, the house's FX position paying the
 * source), idempotently. A reversal that cannot be posted now is not final: the saga tries
 * again later, and the payment becomes FAILED only once it is posted.
 */
export async function reverseFirstLeg(p: FxPayment, collaborators: Collaborators): Promise<void> {
  const [fxIn] = fxLegs(p, await fxLegAccounts(p, collaborators));
  const reversal = { ...fxIn, transferId: `${fxIn.transferId}:reversal`, debitAccountId: fxIn.creditAccountId, creditAccountId: fxIn.debitAccountId };
  try {
    await collaborators.postTransfer(reversal);
  } catch (reversalError) {
    throw new Error(`the first leg of ${p._id} could not be reversed yet; retried later`, { cause: reversalError });
  }
}

export async function fxLegAccounts(p: FxPayment, collaborators: Collaborators): Promise<FxLegAccounts> {
  const [positionIn, positionOut, payee] = await Promise.all([
    collaborators.systemAccountId('FX_POSITION', p.fx.sourceCurrency),
    collaborators.systemAccountId('FX_POSITION', p.fx.targetCurrency),
    p.destinationAccountId ?? collaborators.systemAccountId('EXTERNAL_SETTLEMENT', p.fx.targetCurrency),
  ]);
  return { positionIn, positionOut, payee };
}

/**
 * Refunds of a cross-currency transfer between accounts are refused: reversing it would debit
 * the payee in another currency than the refund's, and a partial reversal at the locked rate
 * rounds differently from the original. The payee sends a new transfer back instead.
 */
export function assertRefundable(p: { fx: FxQuote | null; destinationAccountId: string | null }): void {
  if (p.fx && p.destinationAccountId) {
    throw badInput('a cross-currency transfer between accounts cannot be refunded; send a new transfer back (see fxQuote)', {
      field: 'paymentId', reason: 'FX_TRANSFER_NOT_REFUNDABLE',
    });
  }
}
