import { ConfigError } from '../../runtime/config';
import { approvalRequirement, parseSignatureBands, signaturePolicyFor } from './signing-policy';

const usd = (dollars: number) => BigInt(dollars) * 100n;
const approvals = { singleUsdMinor: usd(10_000), dualUsdMinor: usd(100_000) };

describe('signature policy by amount band', () => {
  const bands = parseSignatureBands('1000000.00:3, 50000.00:2');

  it('parses bands and sorts them by amount', () => {
    expect(bands).toEqual([{ fromUsdMinor: usd(50_000), required: 2 }, { fromUsdMinor: usd(1_000_000), required: 3 }]);
    expect(parseSignatureBands(undefined)).toEqual([]);
    expect(parseSignatureBands('  ')).toEqual([]);
  });

  it.each(['50000', '50000:0', '50000:11', 'abc:2', '-5:2', '10:2,10:3', '10:3,20:2', '10.001:2'])('refuses %j', (text) => {
    expect(() => parseSignatureBands(text)).toThrow(ConfigError);
  });

  it('gives a payment the highest band it reaches, at the boundary included', () => {
    expect(signaturePolicyFor(usd(50_000) - 1n, bands)).toBeNull();
    expect(signaturePolicyFor(usd(50_000), bands)).toEqual({ required: 2, bandFromUsdMinor: usd(50_000) });
    expect(signaturePolicyFor(usd(999_999), bands)).toEqual({ required: 2, bandFromUsdMinor: usd(50_000) });
    expect(signaturePolicyFor(usd(1_000_000), bands)).toEqual({ required: 3, bandFromUsdMinor: usd(1_000_000) });
  });

  it('requires the larger of the maker-checker count and the band\'s signatures', () => {
    expect(approvalRequirement(usd(20_000), { approvals, signatureBands: bands })).toEqual({ requiredApprovals: 1, signaturePolicy: null });
    expect(approvalRequirement(usd(60_000), { approvals, signatureBands: bands })).toEqual({ requiredApprovals: 2, signaturePolicy: { required: 2, bandFromUsdMinor: usd(50_000) } });
    const oneSignature = parseSignatureBands('20000:1');
    expect(approvalRequirement(usd(150_000), { approvals, signatureBands: oneSignature }).requiredApprovals).toBe(2);
    expect(approvalRequirement(usd(150_000), { approvals }).signaturePolicy).toBeNull();
  });
});
