import { verifyDigestSignature } from './approver-key-crypto';
import { paymentInstruction, type InstructionFields } from './instruction';
import type { PaymentDoc } from './repository';
import { hasEnoughApprovals, type ApprovalRecord } from './rules';

/**
 * Which of a payment's approvals count toward releasing it, re-checked at release (pure):
 * for a payment under a signature policy, only signatures over its current instruction
 * that verify with the key stored beside them, none by the creator. A payment without a
 * policy counts its approvals as maker-checker always did.
 */
export type ReleaseFields = InstructionFields & Pick<PaymentDoc, 'createdBy' | 'approvals' | 'requiredApprovals' | 'signaturePolicy'>;

export function isValidSignedApproval(a: ApprovalRecord, digest: string, creator: string): boolean {
  if (!a.signature || !a.publicKey || a.digest !== digest || a.approver === creator || a.keyRevokedBeforeRelease) return false;
  return verifyDigestSignature(a.publicKey, digest, Buffer.from(a.signature, 'base64'));
}

export function countingApprovals(p: ReleaseFields): ApprovalRecord[] {
  if (!p.signaturePolicy) return p.approvals;
  const { digest } = paymentInstruction(p);
  return p.approvals.filter((a) => isValidSignedApproval(a, digest, p.createdBy));
}

export function approvalsComplete(p: ReleaseFields): boolean {
  return hasEnoughApprovals(countingApprovals(p), p.requiredApprovals);
}
