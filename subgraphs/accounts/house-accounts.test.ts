import { ErrorCode, PaygraphError } from '../../runtime/errors';
import { mayOverdraw, nextPosition, systemAccountIdFor, type LedgerAccount } from './ledger';

/**
 * The house FX settlement accounts of cross-currency transfers are the FX_POSITION system
 * accounts, one per currency with a deterministic id (so processes creating it at once converge
 * on one account). Their permission to go negative is the account's own `systemPurpose`, checked
 * by the ledger's overdraft rule: the house sells currency it holds a short position in.
 */
const house: LedgerAccount = { id: systemAccountIdFor('FX_POSITION', 'EUR'), currency: 'EUR', status: 'ACTIVE', systemPurpose: 'FX_POSITION' };
const customer: LedgerAccount = { id: 'acc_customer_eur', currency: 'EUR', status: 'ACTIVE', systemPurpose: null };

test('one house FX account per currency, the same id in every process', () => {
  expect(systemAccountIdFor('FX_POSITION', 'EUR')).toBe('acc_sys_fx_position_eur');
  expect(systemAccountIdFor('FX_POSITION', 'JPY')).toBe('acc_sys_fx_position_jpy');
});

test('a house FX account may go negative; a customer account may not', () => {
  expect(mayOverdraw(house)).toBe(true);
  expect(mayOverdraw(customer)).toBe(false);
  expect(nextPosition(house, null, 'DEBIT', 9_177n)).toEqual({ sequence: 1, balanceAfterMinor: -9_177n });
  expect(() => nextPosition(customer, null, 'DEBIT', 9_177n)).toThrow(expect.objectContaining({ code: ErrorCode.INSUFFICIENT_FUNDS }));
  expect(() => nextPosition(customer, null, 'DEBIT', 9_177n)).toThrow(PaygraphError);
});
