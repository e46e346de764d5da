import { databaseName } from '../../runtime/mongo';
import { serviceIdentity } from '../../runtime/identity';
import type { InternalClient } from '../../runtime/internal-client';
import { createLogger } from '../../runtime/logger';
import { startSubgraph, type StartedSubgraph } from '../../runtime/subgraph-main';
import { commandsOf } from '../../tests/support/commands';
import { isolateDatabases } from '../../tests/support/database';
import { signedGraphql } from '../../tests/support/signed-client';
import { loadComplianceConfig } from './config';
import { complianceSubgraph } from './index';
import { PaymentEventAuditor } from './payment-event-auditor';
import { ComplianceRepository } from './repository';
import { loadSanctionsList } from './sdn';
import { ComplianceService } from './service';

isolateDatabases();
// The poller off, so the counts are the calls' alone; its own poll is counted below.
process.env.COMPLIANCE_AUDIT_POLL_MS = '0';

/**
 * Database commands per call on a warm process: what a settled payment costs compliance.
 * Exact counts, because they are a deterministic property of the code, not a timing.
 */
let compliance: StartedSubgraph;
const payments = serviceIdentity('payments');
const officer = { subject: 'officer-1', scopes: ['compliance:review'] };
let seq = 0;
const uid = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

beforeAll(async () => {
  compliance = await startSubgraph(complianceSubgraph, { port: 0 });
});
afterAll(async () => {
  await compliance?.stop();
});

const PRESCREEN = `mutation($input: PaymentScreeningInput!) { preScreenPayment(input: $input) }`;
const SCREEN = `mutation($input: PaymentScreeningInput!) { screenPayment(input: $input) { status } }`;
const SUBMIT = `mutation($input: SubmitKycInput!) { submitKyc(input: $input) { tier } }`;

function payment(overrides: Record<string, unknown> = {}) {
  return {
    paymentId: `pay_${uid()}`,
    customerId: `cus_${uid()}`,
    customerName: 'Ada Lovelace',
    customerCountry: 'GB',
    sourceAccountId: `acc_${uid()}`,
    amountMinor: '5025',
    currency: 'USD',
    usdEquivalentMinor: '5025',
    crossBorder: false,
    beneficiaryName: 'Grace Hopper',
    beneficiaryCountry: 'GB',
    beneficiaryAccountNumber: 'GB00TEST0001',
    beneficiaryAddress: '1 Test Street, London',
    ...overrides,
  };
}

async function call(query: string, input: Record<string, unknown>, identity = payments) {
  const response = await signedGraphql(compliance.url, query, { input }, identity);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

const commandsOfCompliance = (work: () => Promise<unknown>) => commandsOf(compliance.mongo.client, databaseName('compliance'), work);

async function verifiedCustomer(): Promise<string> {
  const customerId = `cus_${uid()}`;
  await call(SUBMIT, { customerId, tier: 'VERIFIED' }, officer);
  return customerId;
}

describe('database commands per call', () => {
  it('preScreenPayment then screenPayment, a known customer: 3 + 4', async () => {
    const customerId = await verifiedCustomer();
    const warm = payment({ customerId });
    await call(PRESCREEN, warm);
    await call(SCREEN, warm);
    const input = payment({ customerId });
    // The daily total, the payment recorded, the audit record.
    expect(await commandsOfCompliance(() => call(PRESCREEN, input))).toEqual(['find screened_payments', 'insert screened_payments', 'insert audit_log']);
    // The check, the payment marked screened, the AML window, the audit record.
    expect(await commandsOfCompliance(() => call(SCREEN, input))).toEqual(['insert compliance_checks', 'update screened_payments', 'find screened_payments', 'insert audit_log']);
  });

  it('a transfer to another of our customers: both customers\' rows in the same commands', async () => {
    const customerId = await verifiedCustomer();
    await call(PRESCREEN, payment({ customerId }));
    const input = payment({ customerId, counterpartyCustomerId: await verifiedCustomer(), counterpartyName: 'Bob Payee', beneficiaryName: null });
    expect(await commandsOfCompliance(() => call(PRESCREEN, input))).toEqual(['find screened_payments', 'insert screened_payments', 'insert audit_log']);
    expect(await commandsOfCompliance(() => call(SCREEN, input))).toEqual(['insert compliance_checks', 'update screened_payments', 'find screened_payments', 'insert audit_log']);
  });

  it('a customer this process has not seen lately: one read more, of its KYC profile', async () => {
    const input = payment();
    expect((await commandsOfCompliance(() => call(PRESCREEN, input))).sort()).toEqual(['find kyc_profiles', 'find screened_payments', 'insert audit_log', 'insert screened_payments']);
  });

  it('a screening that opens an AML case: its cases read and the case inserted; one audit insert for both records', async () => {
    const customerId = await verifiedCustomer();
    for (const amount of ['950000', '990000']) {
      const earlier = payment({ customerId, amountMinor: amount, usdEquivalentMinor: amount });
      await call(PRESCREEN, earlier);
      await call(SCREEN, earlier);
    }
    const third = payment({ customerId, amountMinor: '920000', usdEquivalentMinor: '920000' });
    await call(PRESCREEN, third);
    expect(await commandsOfCompliance(() => call(SCREEN, third))).toEqual([
      'insert compliance_checks', 'update screened_payments', 'find screened_payments', 'find aml_cases', 'insert aml_cases', 'insert audit_log',
    ]);
  });

  it('screenPayment asked again (a resumed saga) answers the first check', async () => {
    const input = payment({ customerId: await verifiedCustomer(), beneficiaryName: 'Victor Kasparenko' });
    await call(PRESCREEN, input);
    const first = await call(SCREEN, input);
    let again: unknown;
    const commands = await commandsOfCompliance(async () => (again = await call(SCREEN, { ...input, beneficiaryName: 'Grace Hopper' })));
    expect(again).toEqual(first);
    // The check read back after its insert collided; the audit record found already there (by id, and nothing after the tail).
    expect(commands).toEqual([
      'insert compliance_checks', 'update screened_payments', 'find compliance_checks', 'find screened_payments', 'insert audit_log', 'find audit_log', 'find audit_log',
    ]);
  });

  it('screenings of one moment share the check insert, the screened marks and the audit insert', async () => {
    const config = loadComplianceConfig();
    const service = new ComplianceService(new ComplianceRepository(compliance.mongo.database('compliance')), config, loadSanctionsList(config.sanctionsDir).list, createLogger('compliance-test'));
    const warm = payment();
    await service.screenPayment({ ...warm, amountMinor: 5025n, usdEquivalentMinor: 5025n }); // learns the chain's tail
    const inputs = Array.from({ length: 5 }, () => ({ ...payment(), amountMinor: 5025n, usdEquivalentMinor: 5025n }));
    let checks: { paymentId: string }[] = [];
    const commands = await commandsOfCompliance(async () => (checks = await Promise.all(inputs.map((input) => service.screenPayment(input)))));
    expect(checks.map((check) => check.paymentId)).toEqual(inputs.map((input) => input.paymentId));
    const count = (command: string) => commands.filter((c) => c === command).length;
    expect(count('insert compliance_checks')).toBe(1);
    expect(count('update screened_payments')).toBe(1);
    expect(count('find screened_payments')).toBe(5); // each customer's AML window
    expect(count('insert audit_log')).toBeGreaterThanOrEqual(1);
    expect(count('insert audit_log')).toBeLessThanOrEqual(5);
    expect((await service.verifyAuditTrail()).valid).toBe(true);
  });

  it('a poll of the payment-event auditor: the cursor read, one audit insert for the page, the cursor saved once', async () => {
    let cursor = 0;
    const page = () => Array.from({ length: 3 }, () => {
      const c = String(++cursor).padStart(6, '0');
      return { cursor: c, status: 'SETTLED', previousStatus: 'PROCESSING', occurredAt: new Date().toISOString(), payment: { id: `pay_ev${c}` } };
    });
    let next = page();
    const client = { request: async () => ({ paymentEventsAfter: next.splice(0) }) } as unknown as InternalClient;
    const auditor = new PaymentEventAuditor(new ComplianceRepository(compliance.mongo.database('compliance')), createLogger('compliance-test'), 0, 100, client);
    expect(await auditor.pollOnce()).toBe(3); // learns the chain's tail
    next = page();
    let audited = 0;
    expect(await commandsOfCompliance(async () => (audited = await auditor.pollOnce()))).toEqual(['find audit_state', 'insert audit_log', 'update audit_state']);
    expect(audited).toBe(3);
  });
});
