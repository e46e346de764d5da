import { formatMinor } from '../../runtime/money';
import type { AmlSettings } from './config';

/** AML monitoring rules, pure: given a customer's screened payments, which cases to open. */
export interface ScreenedPayment {
  paymentId: string;
  /** The paying customer. */
  customerId: string;
  /** The receiving customer, for transfers between our own customers. */
  counterpartyCustomerId: string | null;
  usdEquivalentMinor: bigint;
  at: Date;
}

export type AmlCaseKind = 'STRUCTURING' | 'RAPID_MOVEMENT';

export interface AmlFinding {
  kind: AmlCaseKind;
  customerId: string;
  paymentIds: string[];
  description: string;
}

const usd = (minor: bigint) => `${formatMinor(minor, 'USD')} USD`;

/**
 * Structuring: at least `minPayments` payments from one customer within `windowHours`, each
 * between `fromPercent`% of the reporting threshold and the threshold itself.
 */
export function detectStructuring(customerId: string, outgoing: readonly ScreenedPayment[], now: Date, settings: AmlSettings['structuring']): AmlFinding | null {
  const since = now.getTime() - settings.windowHours * 3_600_000;
  const threshold = settings.reportingThresholdUsdMinor;
  const floor = threshold * BigInt(settings.fromPercent);
  const near = outgoing
    .filter((p) => p.customerId === customerId && p.at.getTime() >= since && p.at.getTime() <= now.getTime())
    .filter((p) => p.usdEquivalentMinor < threshold && p.usdEquivalentMinor * 100n >= floor)
    .sort((a, b) => a.at.getTime() - b.at.getTime() || a.paymentId.localeCompare(b.paymentId));
  if (near.length < settings.minPayments) return null;
  const total = near.reduce((sum, p) => sum + p.usdEquivalentMinor, 0n);
  return {
    kind: 'STRUCTURING',
    customerId,
    paymentIds: near.map((p) => p.paymentId),
    description: `${near.length} payments totalling ${usd(total)} within ${settings.windowHours} hours, each between ${settings.fromPercent}% of and just under the ${usd(threshold)} reporting threshold`,
  };
}

/**
 * Rapid in-and-out movement: money received (a transfer from another customer) of which at
 * least `outboundPercent`% leaves again within `windowHours` of arriving.
 */
export function detectRapidMovement(
  customerId: string,
  incoming: readonly ScreenedPayment[],
  outgoing: readonly ScreenedPayment[],
  settings: AmlSettings['rapidMovement'],
): AmlFinding[] {
  const findings: AmlFinding[] = [];
  const windowMs = settings.windowHours * 3_600_000;
  for (const inbound of incoming) {
    if (inbound.counterpartyCustomerId !== customerId || inbound.customerId === customerId) continue;
    const start = inbound.at.getTime();
    const out = outgoing
      .filter((p) => p.customerId === customerId && p.at.getTime() >= start && p.at.getTime() <= start + windowMs)
      .sort((a, b) => a.at.getTime() - b.at.getTime() || a.paymentId.localeCompare(b.paymentId));
    const total = out.reduce((sum, p) => sum + p.usdEquivalentMinor, 0n);
    if (out.length === 0 || total * 100n < inbound.usdEquivalentMinor * BigInt(settings.outboundPercent)) continue;
    findings.push({
      kind: 'RAPID_MOVEMENT',
      customerId,
      paymentIds: [inbound.paymentId, ...out.map((p) => p.paymentId)],
      description: `${usd(total)} of ${usd(inbound.usdEquivalentMinor)} received in ${inbound.paymentId} left again within ${settings.windowHours} hours in ${out.length} payment(s)`,
    });
  }
  return findings;
}

/**
 * A finding adds nothing when an open case already covers it: for rapid movement, a case
 * about the same inbound transfer (the outflows that follow it only grow that one story);
 * for structuring, a case of the same kind that holds all its payments.
 */
export function isCovered(finding: AmlFinding, existing: readonly { kind: string; paymentIds: readonly string[] }[]): boolean {
  const sameKind = existing.filter((c) => c.kind === finding.kind);
  if (finding.kind === 'RAPID_MOVEMENT') return sameKind.some((c) => c.paymentIds[0] === finding.paymentIds[0]);
  const covered = new Set(sameKind.flatMap((c) => c.paymentIds));
  return finding.paymentIds.every((id) => covered.has(id));
}
