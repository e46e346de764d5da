import { canSeeCustomer, isAuthenticated, type Identity } from '../../runtime/identity';
import type { AccountDoc, CustomerDoc } from './repository';

/**
 * Who sees what. Staff see every customer their scopes allow; a customer token sees only
 * its own customer and accounts; the bank's own accounts are for our services only.
 * Everything else is simply not there for the caller (null), never another customer's data.
 */
export function canSeeCustomerDoc(identity: Identity, customer: CustomerDoc): boolean {
  return isAuthenticated(identity) && canSeeCustomer(identity, customer._id);
}

export function canSeeAccountDoc(identity: Identity, account: AccountDoc): boolean {
  if (!isAuthenticated(identity)) return false;
  if (account.customerId === null) return identity.internal === true;
  return canSeeCustomer(identity, account.customerId);
}
