import { ConfigError } from '../../runtime/config';
import { parseDecimal } from '../../runtime/money';
import { requiredApprovals, type ApprovalThresholds } from './rules';

/**
 * Which payments need signed approvals, and how many: bands by USD equivalent, read from
 * PAYGRAPH_SIGNED_APPROVAL_BANDS (`"<from USD>:<signatures>,..."`, e.g. `"50000.00:2,1000000.00:3"`).
 * A payment takes the highest band it reaches; below every band (or with no bands) its
 * approvals are plain maker-checker approvals, unsigned.
 */
export interface SignatureBand {
  /** USD minor units at or above which this band applies. */
  fromUsdMinor: bigint;
  /** Distinct valid signatures needed. */
  required: number;
}

/** What a payment stores at creation: the band it fell in. */
export interface SignaturePolicy {
  required: number;
  bandFromUsdMinor: bigint;
}

const MAX_SIGNATURES = 10;

export function parseSignatureBands(text: string | undefined): SignatureBand[] {
  if (text === undefined || text.trim() === '') return [];
  const bands = text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+)\s*$/.exec(part);
    if (!match) throw new ConfigError(`PAYGRAPH_SIGNED_APPROVAL_BANDS: ${JSON.stringify(part)} is not "<from USD>:<signatures>"`);
    const required = Number(match[2]);
    if (required < 1 || required > MAX_SIGNATURES) throw new ConfigError(`PAYGRAPH_SIGNED_APPROVAL_BANDS: signatures must be 1 to ${MAX_SIGNATURES}`);
    let fromUsdMinor: bigint;
    try {
      fromUsdMinor = parseDecimal(match[1], 'USD').minor;
    } catch (error) {
      throw new ConfigError(`PAYGRAPH_SIGNED_APPROVAL_BANDS: ${(error as Error).message}`);
    }
    return { fromUsdMinor, required };
  });
  bands.sort((a, b) => (a.fromUsdMinor < b.fromUsdMinor ? -1 : a.fromUsdMinor > b.fromUsdMinor ? 1 : 0));
  for (let i = 1; i < bands.length; i++) {
    if (bands[i].fromUsdMinor === bands[i - 1].fromUsdMinor) throw new ConfigError('PAYGRAPH_SIGNED_APPROVAL_BANDS: two bands start at the same amount');
    // A larger payment never needs fewer signatures than a smaller one.
    if (bands[i].required < bands[i - 1].required) throw new ConfigError('PAYGRAPH_SIGNED_APPROVAL_BANDS: signatures must not decrease as amounts grow');
  }
  return bands;
}

export function signaturePolicyFor(usdMinor: bigint, bands: readonly SignatureBand[]): SignaturePolicy | null {
  let reached: SignatureBand | undefined;
  for (const band of bands) if (usdMinor >= band.fromUsdMinor) reached = band;
  return reached ? { required: reached.required, bandFromUsdMinor: reached.fromUsdMinor } : null;
}

/** A new payment's approval needs: maker-checker count, raised to its signature band's. */
export function approvalRequirement(
  usdMinor: bigint,
  config: { approvals: ApprovalThresholds; signatureBands?: readonly SignatureBand[] },
): { requiredApprovals: number; signaturePolicy: SignaturePolicy | null } {
  const signaturePolicy = signaturePolicyFor(usdMinor, config.signatureBands ?? []);
  const makerChecker = requiredApprovals(usdMinor, config.approvals);
  return { requiredApprovals: Math.max(makerChecker, signaturePolicy?.required ?? 0), signaturePolicy };
}
