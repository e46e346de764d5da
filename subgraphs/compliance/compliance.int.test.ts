import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serviceIdentity } from '../../runtime/identity';
import { startSubgraph, type StartedSubgraph } from '../../runtime/subgraph-main';
import { isolateDatabases } from '../../tests/support/database';
import { customerIdentity, operator, signedGraphql } from '../../tests/support/signed-client';
import { complianceSubgraph } from './index';
import { ComplianceRepository } from './repository';

isolateDatabases();
process.env.COMPLIANCE_AUDIT_POLL_MS = '50';

const internal = serviceIdentity('payments');
const officer = { subject: 'officer-1', scopes: ['compliance:review'] };
let seq = 0;
const uid = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

/** Stands in for payments: an event log to audit, and continuePayment calls recorded. */
let fakePayments: Server;
const continued: string[] = [];
const events = [
  { cursor: '000001', status: 'PENDING', previousStatus: null, occurredAt: '2026-03-01T10:00:00.000Z', payment: { id: 'pay_ev1' } },
  { cursor: '000002', status: 'PROCESSING', previousStatus: 'PENDING', occurredAt: '2026-03-01T10:00:01.000Z', payment: { id: 'pay_ev1' } },
  { cursor: '000003', status: 'SETTLED', previousStatus: 'PROCESSING', occurredAt: '2026-03-01T10:00:02.000Z', payment: { id: 'pay_ev1' } },
];
let compliance: StartedSubgraph;

async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  fakePayments = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const { query, variables } = JSON.parse(body);
      res.setHeader('content-type', 'application/json');
      if (query.includes('paymentEventsAfter')) {
        const after = variables.after ?? '';
        res.end(JSON.stringify({ data: { paymentEventsAfter: events.filter((e) => e.cursor > after).slice(0, variables.first) } }));
        return;
      }
      continued.push(variables.id);
      res.end(JSON.stringify({ data: { continuePayment: { id: variables.id } } }));
    });
  });
  await new Promise<void>((r) => fakePayments.listen(0, '127.0.0.1', r));
  process.env.PAYMENTS_URL = `http://127.0.0.1:${(fakePayments.address() as AddressInfo).port}/graphql`;
  compliance = await startSubgraph(complianceSubgraph, { port: 0 });
});

afterAll(async () => {
  await compliance?.stop();
  await new Promise((r) => fakePayments.close(r));
});

const PRESCREEN = `mutation($input: PaymentScreeningInput!) { preScreenPayment(input: $input) }`;
const SCREEN = `mutation($input: PaymentScreeningInput!) { screenPayment(input: $input) { status checkedAt matches { listEntryId name score party } resolution { officer status note } } }`;
const SUBMIT = `mutation($input: SubmitKycInput!) { submitKyc(input: $input) { tier status requestedTier limits { singlePaymentUsdMinor dailyTotalUsdMinor } } }`;
const gql = (query: string, variables: Record<string, unknown>, identity = internal) => signedGraphql(compliance.url, query, variables, identity);

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

describe('compliance subgraph', () => {
  it('refuses unsigned requests with 401', async () => {
    const response = await fetch(compliance.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(response.status).toBe(401);
  });

  it('internal operations refuse non-internal callers; review operations need compliance:review; verifyAuditTrail needs ops:admin', async () => {
    expect((await gql(PRESCREEN, { input: payment() }, operator)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gql(SCREEN, { input: payment() }, operator)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const noScope = { subject: 'clerk', scopes: ['payments:read'] };
    expect((await gql(`{ amlCases { edges { cursor } } }`, {}, noScope)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gql(`{ verifyAuditTrail { valid } }`, {}, officer)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gql(`mutation { resolveComplianceCheck(paymentId: "pay_x", status: CLEAR) { status } }`, {}, noScope)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await gql(`{ amlCases(first: 0) { edges { cursor } } }`, {}, officer)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  describe('KYC', () => {
    it('a customer without a profile is NONE / UNVERIFIED, batched through _entities', async () => {
      const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Customer { id kyc { tier status limits { singlePaymentUsdMinor } } } } }`;
      const granted = `cus_${uid()}`;
      await gql(SUBMIT, { input: { customerId: granted, tier: 'VERIFIED' } }, officer);
      const response = await gql(query, { reps: [{ __typename: 'Customer', id: `cus_${uid()}` }, { __typename: 'Customer', id: granted }] }, operator);
      expect(response.data!._entities.map((e: any) => e.kyc)).toEqual([
        { tier: 'NONE', status: 'UNVERIFIED', limits: { singlePaymentUsdMinor: '100000' } },
        { tier: 'VERIFIED', status: 'VERIFIED', limits: { singlePaymentUsdMinor: '5000000' } },
      ]);
      const other = await gql(query, { reps: [{ __typename: 'Customer', id: granted }] }, customerIdentity('cus_someone_else'));
      expect(other.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    });

    it('a customer asks (PENDING), a reviewer approves; a customer cannot ask for another customer', async () => {
      const customerId = `cus_${uid()}`;
      const asked = await gql(SUBMIT, { input: { customerId, tier: 'BASIC', details: { documentType: 'passport', documentNumber: 'X1' } } }, customerIdentity(customerId));
      expect(asked.data!.submitKyc).toMatchObject({ tier: 'NONE', status: 'PENDING', requestedTier: 'BASIC' });
      expect((await gql(SUBMIT, { input: { customerId, tier: 'ENHANCED' } }, customerIdentity('cus_other'))).errors?.[0].extensions?.code).toBe('NOT_FOUND');
      const REVIEW = `mutation($id: ID!, $ok: Boolean!) { reviewKyc(customerId: $id, approve: $ok, note: "docs ok") { tier status requestedTier } }`;
      expect((await gql(REVIEW, { id: customerId, ok: true }, customerIdentity(customerId))).errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await gql(REVIEW, { id: customerId, ok: true }, officer)).data!.reviewKyc).toEqual({ tier: 'BASIC', status: 'VERIFIED', requestedTier: null });
      expect((await gql(REVIEW, { id: customerId, ok: true }, officer)).errors?.[0].extensions?.code).toBe('INVALID_STATE_TRANSITION');
    });
  });

  describe('pre-screening', () => {
    it('a BASIC customer over the single-payment and daily limits is refused with LIMIT_EXCEEDED', async () => {
      const customerId = `cus_${uid()}`;
      await gql(SUBMIT, { input: { customerId, tier: 'BASIC' } }, officer);
      const over = await gql(PRESCREEN, { input: payment({ customerId, amountMinor: '600000', usdEquivalentMinor: '600000' }) });
      expect(over.errors?.[0].extensions?.code).toBe('LIMIT_EXCEEDED');
      expect(over.errors?.[0].message).toBe("payment of 6000.00 USD exceeds the BASIC KYC tier's single-payment limit of 5000.00 USD");
      for (let i = 0; i < 2; i++) expect((await gql(PRESCREEN, { input: payment({ customerId, amountMinor: '450000', usdEquivalentMinor: '450000' }) })).data!.preScreenPayment).toBe(true);
      const daily = await gql(PRESCREEN, { input: payment({ customerId, amountMinor: '200000', usdEquivalentMinor: '200000' }) });
      expect(daily.errors?.[0].extensions?.code).toBe('LIMIT_EXCEEDED');
      expect(daily.errors?.[0].message).toContain("would bring today's total to 11000.00 USD, over the BASIC KYC tier's daily limit of 10000.00 USD");
    });

    it('money a customer received does not count toward its own daily limit', async () => {
      const receiver = `cus_${uid()}`;
      const payer = `cus_${uid()}`;
      await gql(SUBMIT, { input: { customerId: receiver, tier: 'BASIC' } }, officer);
      await gql(SUBMIT, { input: { customerId: payer, tier: 'VERIFIED' } }, officer);
      const inbound = payment({ customerId: payer, counterpartyCustomerId: receiver, counterpartyName: 'Rita Receiver', beneficiaryName: null, amountMinor: '450000', usdEquivalentMinor: '450000' });
      expect((await gql(PRESCREEN, { input: inbound })).data!.preScreenPayment).toBe(true);
      await gql(SCREEN, { input: inbound });
      for (let i = 0; i < 2; i++) expect((await gql(PRESCREEN, { input: payment({ customerId: receiver, amountMinor: '450000', usdEquivalentMinor: '450000' }) })).data!.preScreenPayment).toBe(true);
      expect((await gql(PRESCREEN, { input: payment({ customerId: receiver, amountMinor: '200000', usdEquivalentMinor: '200000' }) })).errors?.[0].extensions?.code).toBe('LIMIT_EXCEEDED');
    });

    it('the travel rule refuses incomplete cross-border details with BAD_USER_INPUT naming the fields', async () => {
      const customerId = `cus_${uid()}`;
      await gql(SUBMIT, { input: { customerId, tier: 'VERIFIED' } }, officer);
      const base = { customerId, crossBorder: true, beneficiaryCountry: 'US', amountMinor: '150000', usdEquivalentMinor: '150000' };
      const refused = await gql(PRESCREEN, { input: payment({ ...base, beneficiaryAddress: null, beneficiaryAccountNumber: '' }) });
      expect(refused.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0].extensions?.missingFields).toEqual(['beneficiary.accountNumber', 'beneficiary.address']);
      expect((await gql(PRESCREEN, { input: payment(base) })).data!.preScreenPayment).toBe(true);
      expect((await gql(PRESCREEN, { input: payment({ ...base, beneficiaryAddress: null, amountMinor: '99999', usdEquivalentMinor: '99999' }) })).data!.preScreenPayment).toBe(true);
    });
  });

  describe('sanctions screening', () => {
    it.each([
      ['a clean beneficiary', 'Grace Hopper', 'CLEAR', []],
      ['a sanctioned beneficiary, misspelt and reordered', 'Kasparenko, Victor Dragomirow', 'BLOCKED', ['10001']],
      ['a sanctioned beneficiary, misspelt, reordered, middle name missing', 'Victor Kasparenko', 'POTENTIAL_MATCH', ['10001']],
      ['a merely similar common name', 'Maria Gonzalez', 'POTENTIAL_MATCH', ['10002']],
      ['a shared common first name only', 'Maria Santos', 'CLEAR', []],
    ])('%s: %s → %s', async (_case, beneficiaryName, status, ids) => {
      const response = await gql(SCREEN, { input: payment({ beneficiaryName }) });
      expect(response.errors).toBeUndefined();
      expect(response.data!.screenPayment.status).toBe(status);
      expect(response.data!.screenPayment.matches.map((m: any) => m.listEntryId)).toEqual(ids);
      if (ids.length) expect(response.data!.screenPayment.matches[0].party).toBe('BENEFICIARY');
    });

    it('screening is idempotent by payment id', async () => {
      const input = payment({ beneficiaryName: 'Victor Kasparenko' });
      const first = (await gql(SCREEN, { input })).data!.screenPayment;
      const again = (await gql(SCREEN, { input: { ...input, beneficiaryName: 'Grace Hopper' } })).data!.screenPayment;
      expect(again).toEqual(first);
    });

    it('an officer resolves a potential match, payments is asked to continue, and it shows on Payment.complianceCheck', async () => {
      const input = payment({ beneficiaryName: 'Victor Kasparenko' });
      await gql(SCREEN, { input });
      const RESOLVE = `mutation($id: ID!, $s: ComplianceStatus!) { resolveComplianceCheck(paymentId: $id, status: $s, note: "different person") { status resolution { officer status note } } }`;
      const resolved = await gql(RESOLVE, { id: input.paymentId, s: 'CLEAR' }, officer);
      expect(resolved.data!.resolveComplianceCheck).toEqual({ status: 'CLEAR', resolution: { officer: 'officer-1', status: 'CLEAR', note: 'different person' } });
      expect(continued).toContain(input.paymentId);
      expect((await gql(RESOLVE, { id: input.paymentId, s: 'BLOCKED' }, officer)).errors?.[0].extensions?.code).toBe('INVALID_STATE_TRANSITION');
      expect((await gql(RESOLVE, { id: input.paymentId, s: 'POTENTIAL_MATCH' }, officer)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

      const query = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Payment { complianceCheck { status } } } }`;
      const reps = [{ __typename: 'Payment', id: input.paymentId }, { __typename: 'Payment', id: 'pay_none' }];
      expect((await gql(query, { reps }, operator)).data!._entities).toEqual([{ complianceCheck: { status: 'CLEAR' } }, { complianceCheck: null }]);
      expect((await gql(query, { reps }, customerIdentity(input.customerId))).data!._entities).toEqual([{ complianceCheck: null }, { complianceCheck: null }]);
    });
  });

  describe('AML monitoring', () => {
    const CASES = `query($c: ID) { amlCases(customerId: $c) { edges { node { id customerId kind paymentIds description } } } }`;

    it('three payments just under 10,000 USD raise one structuring case', async () => {
      const customerId = `cus_${uid()}`;
      const ids: string[] = [];
      for (const amount of ['950000', '990000', '920000', '930000']) {
        const input = payment({ customerId, amountMinor: amount, usdEquivalentMinor: amount });
        ids.push(input.paymentId);
        await gql(SCREEN, { input });
        await gql(SCREEN, { input }); // a retry opens nothing new
      }
      const cases = (await gql(CASES, { c: customerId }, officer)).data!.amlCases.edges.map((e: any) => e.node);
      cases.sort((a: any, b: any) => b.paymentIds.length - a.paymentIds.length);
      // The third payment opens a case; the fourth extends the pattern and opens one covering all four.
      expect(cases.map((c: any) => [c.kind, c.paymentIds])).toEqual([
        ['STRUCTURING', ids],
        ['STRUCTURING', ids.slice(0, 3)],
      ]);
      expect(cases[1].description).toBe('3 payments totalling 28600.00 USD within 72 hours, each between 90% of and just under the 10000.00 USD reporting threshold');
    });

    it('a case opened without its audit record (a crash in between) is audited when the payment is screened again', async () => {
      const customerId = `cus_${uid()}`;
      const inputs = ['950000', '990000', '920000'].map((amount) => payment({ customerId, amountMinor: amount, usdEquivalentMinor: amount }));
      for (const input of inputs.slice(0, 2)) await gql(SCREEN, { input });
      // The third payment's screening got as far as its case, then stopped.
      const repository = new ComplianceRepository(compliance.mongo.database('compliance'));
      const third = inputs[2];
      await repository.markScreened({ paymentId: third.paymentId, customerId, counterpartyCustomerId: null, usdEquivalentMinor: 920000n, at: new Date() });
      const record = await repository.openCase({ kind: 'STRUCTURING', customerId, paymentIds: inputs.map((i) => i.paymentId), description: 'opened before a crash' }, new Date());
      expect(record).not.toBeNull();
      await gql(SCREEN, { input: third });
      const audit = compliance.mongo.database('compliance').collection('audit_log');
      expect(await audit.find({ kind: 'AML_CASE_OPENED', 'data.customerId': customerId }).map((r) => r.data.caseId).toArray()).toEqual([record!._id]);
      expect((await gql(CASES, { c: customerId }, officer)).data!.amlCases.edges).toHaveLength(1);
    });

    it('money received and sent straight on raises a rapid-movement case', async () => {
      const mule = `cus_${uid()}`;
      const inbound = payment({ customerId: `cus_${uid()}`, counterpartyCustomerId: mule, counterpartyName: 'Bob Mule', beneficiaryName: null, amountMinor: '500000', usdEquivalentMinor: '500000' });
      await gql(SCREEN, { input: inbound });
      const outbound = payment({ customerId: mule, amountMinor: '450000', usdEquivalentMinor: '450000' });
      await gql(SCREEN, { input: outbound });
      const cases = (await gql(CASES, { c: mule }, officer)).data!.amlCases.edges.map((e: any) => e.node);
      expect(cases).toEqual([expect.objectContaining({ kind: 'RAPID_MOVEMENT', paymentIds: [inbound.paymentId, outbound.paymentId] })]);
    });

    it('rapid movement of prescreened payments, and screening again opens nothing new', async () => {
      const mule = `cus_${uid()}`;
      const inbound = payment({ customerId: `cus_${uid()}`, counterpartyCustomerId: mule, counterpartyName: 'Bob Mule', beneficiaryName: null, amountMinor: '90000', usdEquivalentMinor: '90000' });
      const outbound = payment({ customerId: mule, amountMinor: '80000', usdEquivalentMinor: '80000' });
      for (const input of [inbound, outbound]) {
        expect((await gql(PRESCREEN, { input })).data!.preScreenPayment).toBe(true);
        await gql(SCREEN, { input });
        await gql(SCREEN, { input });
      }
      const cases = (await gql(CASES, { c: mule }, officer)).data!.amlCases.edges.map((e: any) => e.node);
      expect(cases).toEqual([expect.objectContaining({ kind: 'RAPID_MOVEMENT', paymentIds: [inbound.paymentId, outbound.paymentId] })]);
      const audit = compliance.mongo.database('compliance').collection('audit_log');
      expect(await audit.countDocuments({ kind: 'AML_CASE_OPENED', 'data.customerId': mule })).toBe(1);
      expect(await audit.countDocuments({ key: `screening:${outbound.paymentId}` })).toBe(1);
    });
  });

  describe('audit trail', () => {
    it('audits payment status changes pulled from payments, once each', async () => {
      const audit = compliance.mongo.database('compliance').collection('audit_log');
      const records = await waitFor(async () => {
        const found = await audit.find({ kind: 'PAYMENT_STATUS_CHANGED' }).sort({ sequence: 1 }).toArray();
        return found.length === 3 && found;
      });
      expect(records.map((r) => [r.data.cursor, r.data.status, r.data.previousStatus])).toEqual([
        ['000001', 'PENDING', null],
        ['000002', 'PROCESSING', 'PENDING'],
        ['000003', 'SETTLED', 'PROCESSING'],
      ]);
      const state = await compliance.mongo.database('compliance').collection('audit_state').findOne({ _id: 'payment-events' as any });
      expect(state?.cursor).toBe('000003');
    });

    it('verifyAuditTrail accepts the intact chain and finds a record edited in the database', async () => {
      const VERIFY = `{ verifyAuditTrail { valid recordsChecked firstBrokenSequence firstBrokenRecordId } }`;
      const intact = (await gql(VERIFY, {}, operator)).data!.verifyAuditTrail;
      expect(intact.valid).toBe(true);
      expect(intact.recordsChecked).toBeGreaterThan(10);
      expect(intact.firstBrokenSequence).toBeNull();

      const audit = compliance.mongo.database('compliance').collection('audit_log');
      const victim = await audit.findOne({ kind: 'SANCTIONS_SCREENING', 'data.status': 'BLOCKED' });
      expect(victim).not.toBeNull();
      await audit.updateOne({ _id: victim!._id }, { $set: { 'data.status': 'CLEAR' } });

      const broken = (await gql(VERIFY, {}, operator)).data!.verifyAuditTrail;
      expect(broken).toEqual({ valid: false, recordsChecked: victim!.sequence, firstBrokenSequence: victim!.sequence, firstBrokenRecordId: victim!._id });
    });
  });
});
