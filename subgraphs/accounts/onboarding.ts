import { forbidden, notFound } from '../../runtime/errors';
import { exponentOf } from '../../runtime/money';
import type { Identity } from '../../runtime/identity';
import { validateCustomerInput } from './customer-rules';
import { newId, requireCustomerId } from './ids';
import type { AccountDoc, AccountsRepository, CustomerDoc } from './repository';

/** Creating customers and opening their accounts. Callers have already checked the scope. */
export class Onboarding {
  constructor(private readonly repository: AccountsRepository) {}

  async createCustomer(identity: Identity, input: { name: unknown; email: unknown; country: unknown }): Promise<CustomerDoc> {
    if (identity.customerId !== undefined) throw forbidden('customers are created by staff');
    const details = validateCustomerInput(input);
    const customer: CustomerDoc = { _id: newId('cus'), ...details, createdAt: new Date() };
    await this.repository.insertCustomer(customer);
    return customer;
  }

  async openAccount(identity: Identity, input: { customerId: unknown; currency: unknown }): Promise<AccountDoc> {
    const customerId = requireCustomerId(input.customerId);
    // Checked before the lookup, so the answer says nothing about other customers' ids.
    if (identity.customerId !== undefined && identity.customerId !== customerId) throw forbidden('a customer may open accounts only for itself');
    exponentOf(input.currency as string);
    const [customer] = await this.repository.findCustomersByIds([customerId]);
    if (!customer) throw notFound('customer', customerId);
    const account: AccountDoc = {
      _id: newId('acc'),
      customerId,
      currency: input.currency as string,
      status: 'ACTIVE',
      systemPurpose: null,
      createdAt: new Date(),
    };
    await this.repository.insertAccount(account);
    return account;
  }
}
