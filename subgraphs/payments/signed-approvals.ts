import type { Identity } from '../../runtime/identity';
import { badInput, ErrorCode, notFound, PaygraphError } from '../../runtime/errors';
import { parsePublicKey, parseSignature, verifyDigestSignature } from './approver-key-crypto';
import type { ApproverKeyDoc, ApproverKeyRepository } from './approver-key-repository';
import { countingApprovals, isValidSignedApproval } from './approval-release';
import { paymentInstruction } from './instruction';
import type { PaymentDoc } from './repository';
import { validateId, type ApprovalRecord } from './rules';

/** approvePayment's optional proof: an Ed25519 signature over the instruction digest, by a registered key. */
export interface SignedApprovalInput {
  signature?: unknown;
  keyId?: unknown;
}

export type KeyStatus = 'ACTIVE' | 'REVOKED' | 'UNKNOWN';

/** One approval as an auditor sees it, re-verified against the registry. */
export interface ApprovalCheck {
  approver: string;
  approvedAt: Date;
  keyId: string | null;
  digest: string | null;
  signed: boolean;
  matchesInstruction: boolean;
  signatureValid: boolean;
  keyStatus: KeyStatus | null;
  keyRevokedAt: Date | null;
  /** The key was revoked while the payment still waited for approvals: the signature stopped counting. */
  revokedBeforeRelease: boolean;
  /** Counts toward release: signed over this instruction, verified, by the key's owner, not the creator, its key not revoked before release. */
  valid: boolean;
}

export interface ApprovalsVerification {
  paymentId: string;
  digest: string;
  instruction: string;
  required: number;
  validApprovals: number;
  satisfied: boolean;
  approvals: ApprovalCheck[];
}

const APPROVER = /^[\x21-\x7e]{1,128}$/;

/** Approver keys and signed approvals: registration, the approval a caller's signature makes, audits. */
export class SignedApprovals {
  constructor(private readonly keys: ApproverKeyRepository) {}

  registerKey(identity: Identity, input: Record<string, unknown>): Promise<ApproverKeyDoc> {
    const approver = input.approver;
    if (typeof approver !== 'string' || !APPROVER.test(approver)) throw badInput('approver must be 1 to 128 printable characters (the approver\'s token subject)', { field: 'approver' });
    return this.keys.register(parsePublicKey(input.publicKey), approver, identity.subject);
  }

  revokeKey(identity: Identity, keyId: unknown): Promise<ApproverKeyDoc> {
    return this.keys.revoke(validateId(keyId, 'keyId', 'akey_'), identity.subject);
  }

  listKeys(filter: { approver?: unknown; includeRevoked?: unknown }): Promise<ApproverKeyDoc[]> {
    const approver = filter.approver === undefined || filter.approver === null ? undefined : String(filter.approver);
    return this.keys.list({ approver, includeRevoked: filter.includeRevoked !== false });
  }

  eligibleApprovers(creator: string): Promise<number> {
    return this.keys.countEligibleApprovers(creator);
  }

  /**
   * The approval the caller's request makes, checked before anything is written; 'recorded'
   * when this key's signature over this instruction is already on the payment (a repeat is
   * idempotent). A payment under a signature policy refuses an unsigned approval.
   */
  async approvalFor(identity: Identity, p: PaymentDoc, input: SignedApprovalInput): Promise<ApprovalRecord | 'recorded'> {
    const signed = input.signature !== undefined && input.signature !== null;
    const keyed = input.keyId !== undefined && input.keyId !== null;
    if (signed !== keyed) throw badInput('give both signature and keyId, or neither', { field: signed ? 'keyId' : 'signature' });
    if (!signed) {
      if (p.signaturePolicy) {
        throw new PaygraphError(ErrorCode.SIGNATURE_REQUIRED, 'this payment needs signed approvals: sign Payment.approvalRequest.digest and pass signature and keyId', {
          field: 'signature', required: p.requiredApprovals,
        });
      }
      return { approver: identity.subject, approvedAt: new Date() };
    }
    const keyId = validateId(input.keyId, 'keyId', 'akey_');
    const signature = parseSignature(input.signature);
    const key = await this.keys.find(keyId);
    if (!key) throw notFound('approver key', keyId);
    if (key.approver !== identity.subject) throw new PaygraphError(ErrorCode.FORBIDDEN, 'this key belongs to another approver', { keyId });
    const { digest } = paymentInstruction(p);
    if (p.approvals.some((a) => a.keyId === keyId && a.digest === digest)) return 'recorded';
    if (key.revokedAt) throw new PaygraphError(ErrorCode.FORBIDDEN, 'this key was revoked and signs nothing new', { keyId, reason: 'KEY_REVOKED' });
    if (!verifyDigestSignature(key.publicKey, digest, signature)) {
      throw new PaygraphError(ErrorCode.SIGNATURE_INVALID, 'the signature does not verify over this payment\'s instruction digest with this key', { keyId, digest });
    }
    return { approver: key.approver, approvedAt: new Date(), keyId, digest, signature: signature.toString('base64'), publicKey: key.publicKey };
  }

  /**
   * The payment's approvals so far, each signed one whose key has been revoked since marked so
   * (written with the next approval): a revoked, perhaps compromised, key helps release nothing.
   */
  async markRevokedKeys(p: PaymentDoc): Promise<ApprovalRecord[]> {
    const signed = p.approvals.filter((a) => a.keyId && !a.keyRevokedBeforeRelease);
    if (signed.length === 0) return p.approvals;
    const revoked = new Set((await this.keys.findMany(signed.map((a) => a.keyId!))).filter((k) => k.revokedAt).map((k) => k._id));
    return p.approvals.map((a) => (a.keyId && revoked.has(a.keyId) ? { ...a, keyRevokedBeforeRelease: true } : a));
  }

  /** The approvals an approver's new one is weighed against (stale signatures do not block a fresh one). */
  standingApprovals(p: PaymentDoc): ApprovalRecord[] {
    return countingApprovals(p);
  }

  /** Re-verifies every approval against the stored instruction and the registry's keys (revoked ones included). */
  async verify(p: PaymentDoc): Promise<ApprovalsVerification> {
    const instruction = paymentInstruction(p);
    const keys = new Map((await this.keys.findMany(p.approvals.flatMap((a) => (a.keyId ? [a.keyId] : [])))).map((k) => [k._id, k]));
    const approvals = p.approvals.map((a): ApprovalCheck => {
      const key = a.keyId ? keys.get(a.keyId) : undefined;
      const signed = Boolean(a.signature && a.keyId);
      const matchesInstruction = signed && a.digest === instruction.digest;
      // Checked with the registry's copy of the key when it has one, else with the copy kept on the approval.
      const publicKey = key?.publicKey ?? a.publicKey;
      const signatureValid = matchesInstruction && Boolean(publicKey) && verifyDigestSignature(publicKey!, instruction.digest, Buffer.from(a.signature!, 'base64'));
      const keyStatus: KeyStatus | null = !a.keyId ? null : !key ? 'UNKNOWN' : key.revokedAt ? 'REVOKED' : 'ACTIVE';
      const ownKey = key ? key.approver === a.approver : false;
      const valid = signed && signatureValid && ownKey && isValidSignedApproval({ ...a, publicKey }, instruction.digest, p.createdBy);
      return {
        approver: a.approver, approvedAt: a.approvedAt, keyId: a.keyId ?? null, digest: a.digest ?? null,
        signed, matchesInstruction, signatureValid, keyStatus, keyRevokedAt: key?.revokedAt ?? null, revokedBeforeRelease: Boolean(a.keyRevokedBeforeRelease), valid,
      };
    });
    const validApprovals = new Set(approvals.filter((a) => a.valid).map((a) => a.approver)).size;
    return {
      paymentId: p._id, digest: instruction.digest, instruction: instruction.text, required: p.requiredApprovals, validApprovals,
      satisfied: validApprovals >= p.requiredApprovals, approvals,
    };
  }
}
