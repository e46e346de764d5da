import { loadComplianceConfig } from './config';
import { detectRapidMovement, detectStructuring, isCovered, type ScreenedPayment } from './aml';

const { aml } = loadComplianceConfig();
const now = new Date('2026-03-04T12:00:00.000Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const pay = (paymentId: string, usdMinor: bigint, at: Date, customerId = 'cus_a', counterpartyCustomerId: string | null = null): ScreenedPayment => ({
  paymentId, customerId, counterpartyCustomerId, usdEquivalentMinor: usdMinor, at,
});

describe('structuring', () => {
  it('three payments just under 10,000 USD within 72 hours open a case', () => {
    const finding = detectStructuring('cus_a', [pay('pay_1', 950_000n, hoursAgo(70)), pay('pay_2', 990_000n, hoursAgo(20)), pay('pay_3', 900_000n, hoursAgo(1))], now, aml.structuring);
    expect(finding).toEqual({
      kind: 'STRUCTURING',
      customerId: 'cus_a',
      paymentIds: ['pay_1', 'pay_2', 'pay_3'],
      description: '3 payments totalling 28400.00 USD within 72 hours, each between 90% of and just under the 10000.00 USD reporting threshold',
    });
  });

  it.each([
    ['only two near the threshold', [pay('pay_1', 950_000n, hoursAgo(3)), pay('pay_2', 990_000n, hoursAgo(2)), pay('pay_3', 500_000n, hoursAgo(1))]],
    ['one outside the window', [pay('pay_1', 950_000n, hoursAgo(73)), pay('pay_2', 990_000n, hoursAgo(2)), pay('pay_3', 960_000n, hoursAgo(1))]],
    ['one at the threshold (reported anyway)', [pay('pay_1', 1_000_000n, hoursAgo(3)), pay('pay_2', 990_000n, hoursAgo(2)), pay('pay_3', 960_000n, hoursAgo(1))]],
    ['one below 90%', [pay('pay_1', 899_999n, hoursAgo(3)), pay('pay_2', 990_000n, hoursAgo(2)), pay('pay_3', 960_000n, hoursAgo(1))]],
    ['another customer’s payment', [pay('pay_1', 950_000n, hoursAgo(3), 'cus_b'), pay('pay_2', 990_000n, hoursAgo(2)), pay('pay_3', 960_000n, hoursAgo(1))]],
  ])('no case with %s', (_name, payments) => {
    expect(detectStructuring('cus_a', payments, now, aml.structuring)).toBeNull();
  });
});

describe('rapid movement', () => {
  const inbound = pay('pay_in', 1_000_000n, hoursAgo(10), 'cus_b', 'cus_a');
  it('80% of an inbound amount leaving within 24 hours opens a case', () => {
    const findings = detectRapidMovement('cus_a', [inbound], [pay('pay_o1', 500_000n, hoursAgo(9)), pay('pay_o2', 300_000n, hoursAgo(1))], aml.rapidMovement);
    expect(findings).toEqual([
      { kind: 'RAPID_MOVEMENT', customerId: 'cus_a', paymentIds: ['pay_in', 'pay_o1', 'pay_o2'], description: '8000.00 USD of 10000.00 USD received in pay_in left again within 24 hours in 2 payment(s)' },
    ]);
  });
  it.each([
    ['less than 80% left', [pay('pay_o1', 799_999n, hoursAgo(1))]],
    ['it left before it arrived', [pay('pay_o1', 900_000n, hoursAgo(11))]],
  ])('no case when %s', (_name, outgoing) => {
    expect(detectRapidMovement('cus_a', [inbound], outgoing, aml.rapidMovement)).toEqual([]);
  });
  it('money leaving after the window does not count', () => {
    const old = pay('pay_in', 1_000_000n, hoursAgo(30), 'cus_b', 'cus_a');
    expect(detectRapidMovement('cus_a', [old], [pay('pay_o1', 900_000n, hoursAgo(1))], aml.rapidMovement)).toEqual([]);
  });
});

describe('isCovered', () => {
  test('one rapid-movement case per inbound transfer, however many outflows follow', () => {
    const rapid = { kind: 'RAPID_MOVEMENT' as const, customerId: 'cus_1', paymentIds: ['in', 'out1', 'out2'], description: '' };
    expect(isCovered(rapid, [{ kind: 'RAPID_MOVEMENT', paymentIds: ['in', 'out1'] }])).toBe(true);
    expect(isCovered(rapid, [{ kind: 'RAPID_MOVEMENT', paymentIds: ['other-in', 'out1', 'out2'] }])).toBe(false);
  });

  it('skips findings whose payments are already in a case of the same kind', () => {
    const finding = { kind: 'STRUCTURING' as const, customerId: 'c', paymentIds: ['a', 'b', 'c'], description: '' };
    expect(isCovered(finding, [{ kind: 'STRUCTURING', paymentIds: ['a', 'b', 'c'] }])).toBe(true);
    expect(isCovered(finding, [{ kind: 'RAPID_MOVEMENT', paymentIds: ['a', 'b', 'c'] }])).toBe(false);
    expect(isCovered({ ...finding, paymentIds: ['a', 'b', 'c', 'd'] }, [{ kind: 'STRUCTURING', paymentIds: ['a', 'b', 'c'] }])).toBe(false);
  });
});
