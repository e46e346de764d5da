import { generateKeyPairSync, sign } from 'node:crypto';
import { parsePublicKey, parseSignature, verifyDigestSignature } from './approver-key-crypto';
import { approvalsComplete, countingApprovals, type ReleaseFields } from './approval-release';
import { paymentInstruction } from './instruction';
import type { ApprovalRecord } from './rules';

function approverKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return { pem, privateKey, raw: publicKey.export({ format: 'jwk' }).x! };
}

const payment: ReleaseFields = {
  _id: 'pay_1', sourceAccountId: 'acc_a', destinationAccountId: 'acc_b', beneficiary: null, amountMinor: 20_000_000n, currency: 'USD', reference: null, fx: null,
  createdBy: 'maker', approvals: [], requiredApprovals: 2, signaturePolicy: { required: 2, bandFromUsdMinor: 5_000_000n },
};

function signedBy(approver: string, key: ReturnType<typeof approverKey>, p: ReleaseFields = payment): ApprovalRecord {
  const { digest } = paymentInstruction(p);
  const signature = sign(null, Buffer.from(digest, 'hex'), key.privateKey).toString('base64');
  return { approver, approvedAt: new Date(), keyId: parsePublicKey(key.pem).keyId, digest, signature, publicKey: key.pem };
}

describe('approver keys', () => {
  const key = approverKey();

  it('reads PEM, base64 SPKI DER and base64 raw keys as the same key', () => {
    const fromPem = parsePublicKey(key.pem);
    const der = key.pem.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(parsePublicKey(der)).toEqual(fromPem);
    expect(parsePublicKey(Buffer.from(key.raw, 'base64url').toString('base64'))).toEqual(fromPem);
    expect(fromPem.keyId).toMatch(/^akey_[0-9a-f]{24}$/);
  });

  it('refuses what is not an Ed25519 public key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    for (const bad of [rsa, 'not a key', '', 42, Buffer.alloc(31).toString('base64')]) {
      expect(() => parsePublicKey(bad)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    }
  });

  it('verifies a signature over the digest bytes and nothing else', () => {
    const { digest } = paymentInstruction(payment);
    const signature = sign(null, Buffer.from(digest, 'hex'), key.privateKey);
    expect(verifyDigestSignature(key.pem, digest, signature)).toBe(true);
    expect(verifyDigestSignature(key.pem, paymentInstruction({ ...payment, amountMinor: 1n }).digest, signature)).toBe(false);
    expect(verifyDigestSignature(approverKey().pem, digest, signature)).toBe(false);
    expect(() => parseSignature('abc')).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
    expect(parseSignature(signature.toString('base64url'))).toEqual(signature);
  });
});

describe('release of a payment under a signature policy', () => {
  const alice = approverKey();
  const bob = approverKey();
  const maker = approverKey();

  it('needs N distinct valid signatures over the current instruction', () => {
    expect(approvalsComplete({ ...payment, approvals: [signedBy('alice', alice)] })).toBe(false);
    expect(approvalsComplete({ ...payment, approvals: [signedBy('alice', alice), signedBy('bob', bob)] })).toBe(true);
    // One person twice is one approver.
    expect(approvalsComplete({ ...payment, approvals: [signedBy('alice', alice), signedBy('alice', bob)] })).toBe(false);
  });

  it('counts no unsigned approval, none by the creator, none with a forged signature', () => {
    const unsigned = { approver: 'carol', approvedAt: new Date() };
    const forged = { ...signedBy('bob', bob), signature: signedBy('alice', alice).signature };
    expect(countingApprovals({ ...payment, approvals: [signedBy('alice', alice), unsigned, signedBy('maker', maker), forged] }).map((a) => a.approver)).toEqual(['alice']);
  });

  it('does not count a signature whose key was revoked before release', () => {
    expect(approvalsComplete({ ...payment, approvals: [{ ...signedBy('alice', alice), keyRevokedBeforeRelease: true }, signedBy('bob', bob)] })).toBe(false);
  });

  it('drops every signature once the instruction changes', () => {
    const approvals = [signedBy('alice', alice), signedBy('bob', bob)];
    expect(approvalsComplete({ ...payment, approvals, amountMinor: payment.amountMinor + 1n })).toBe(false);
    expect(approvalsComplete({ ...payment, approvals, reference: 'changed' })).toBe(false);
  });

  it('leaves payments without a policy to maker-checker counting', () => {
    const plain = { ...payment, signaturePolicy: null, requiredApprovals: 1, approvals: [{ approver: 'carol', approvedAt: new Date() }] };
    expect(approvalsComplete(plain)).toBe(true);
  });
});
