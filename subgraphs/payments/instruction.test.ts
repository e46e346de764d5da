import { createHash } from 'node:crypto';
import { canonicalInstruction, INSTRUCTION_VERSION, paymentInstruction, type InstructionFields } from './instruction';

const transfer: InstructionFields = {
  _id: 'pay_1',
  sourceAccountId: 'acc_src',
  destinationAccountId: 'acc_dst',
  beneficiary: null,
  amountMinor: 15_000_000n,
  currency: 'USD',
  reference: 'invoice 42',
  fx: null,
};

describe('canonical payment instruction (v1)', () => {
  it('is JSON with sorted keys, no whitespace, minor units as strings', () => {
    expect(canonicalInstruction(transfer)).toBe(
      `{"amount":{"currency":"USD","minor":"15000000"},"authorization":null,"beneficiary":null,"destination":"acc_dst","fx":null,"paymentId":"pay_1","reference":"invoice 42","source":"acc_src","version":"${INSTRUCTION_VERSION}"}`,
    );
  });

  it('digests the text with SHA-256 (hex)', () => {
    const { text, digest } = paymentInstruction(transfer);
    expect(digest).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the order fields were written in', () => {
    const reordered = Object.fromEntries(Object.entries(transfer).reverse()) as unknown as InstructionFields;
    expect(paymentInstruction(reordered).digest).toBe(paymentInstruction(transfer).digest);
  });

  it.each([
    ['amount', { amountMinor: 15_000_001n }],
    ['currency', { currency: 'EUR' }],
    ['source', { sourceAccountId: 'acc_other' }],
    ['destination', { destinationAccountId: 'acc_other' }],
    ['reference', { reference: 'invoice 43' }],
    ['payment id', { _id: 'pay_2' }],
  ])('changes with the %s', (_name, change) => {
    expect(paymentInstruction({ ...transfer, ...change }).digest).not.toBe(paymentInstruction(transfer).digest);
  });

  it('binds a payout\'s beneficiary and its locked FX quote, every field of it', () => {
    const payout: InstructionFields = {
      ...transfer,
      destinationAccountId: null,
      beneficiary: { name: 'Ana', country: 'DE', accountNumber: 'DE89370400440532013000', currency: 'EUR', address: null },
      fx: { rate: '0.9200000000', sourceMinor: 15_000_000n, sourceCurrency: 'USD', targetMinor: 13_800_000n, targetCurrency: 'EUR', lockedAt: new Date('2026-12-04T10:00:00.000Z') },
    };
    const text = canonicalInstruction(payout);
    expect(JSON.parse(text).fx).toEqual({
      lockedAt: '2026-12-04T10:00:00.000Z', rate: '0.9200000000', sourceCurrency: 'USD', sourceMinor: '15000000', targetCurrency: 'EUR', targetMinor: '13800000',
    });
    expect(JSON.parse(text).beneficiary.accountNumber).toBe('DE89370400440532013000');
    const requoted = { ...payout, fx: { ...payout.fx!, targetMinor: 13_799_999n } };
    expect(paymentInstruction(requoted).digest).not.toBe(paymentInstruction(payout).digest);
    const otherIban = { ...payout, beneficiary: { ...payout.beneficiary!, accountNumber: 'DE89370400440532013001' } };
    expect(paymentInstruction(otherIban).digest).not.toBe(paymentInstruction(payout).digest);
  });

  it('tells an authorization (a hold) from a transfer, by its terms only', () => {
    const hold = { ...transfer, authorization: { expiresAt: new Date('2026-12-11T10:00:00.000Z'), closing: null, capturedMinor: null } };
    expect(JSON.parse(canonicalInstruction(hold)).authorization).toEqual({ expiresAt: '2026-12-11T10:00:00.000Z' });
    expect(paymentInstruction(hold).digest).not.toBe(paymentInstruction(transfer).digest);
    const captured = { ...hold, authorization: { ...hold.authorization, capturedMinor: 1_000n } };
    expect(paymentInstruction(captured).digest).toBe(paymentInstruction(hold).digest);
  });

  it('refuses floating-point numbers', () => {
    expect(() => canonicalInstruction({ ...transfer, fx: { rate: 0.92 } as never })).toThrow(/floating-point/);
  });
});
