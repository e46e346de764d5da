import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { badInput } from '../../runtime/errors';

/**
 * Ed25519 public keys of approvers and signature checks (node:crypto). A key is given as
 * PEM (`-----BEGIN PUBLIC KEY-----`, SPKI), as base64 of the SPKI DER, or as base64 of
 * the raw 32-byte key; it is stored as SPKI PEM. Its id is derived from the key itself, so
 * registering one key twice is the same registration.
 */
export interface ParsedPublicKey {
  /** `akey_` + the first 24 hex digits of SHA-256 over the SPKI DER. */
  keyId: string;
  /** SHA-256 of the SPKI DER, hex: what to compare out of band. */
  fingerprint: string;
  pem: string;
}

const RAW_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function keyObjectOf(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) return createPublicKey({ key: trimmed, format: 'pem' });
  const compact = trimmed.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw new Error('not base64');
  const bytes = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length === RAW_KEY_BYTES) return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') }, format: 'jwk' });
  return createPublicKey({ key: bytes, format: 'der', type: 'spki' });
}

export function parsePublicKey(text: unknown): ParsedPublicKey {
  if (typeof text !== 'string' || text.length === 0 || text.length > 4096) {
    throw badInput('publicKey must be an Ed25519 public key: PEM (SPKI), base64 SPKI DER or base64 of the raw 32 bytes', { field: 'publicKey' });
  }
  let key: KeyObject;
  try {
    key = keyObjectOf(text);
  } catch {
    throw badInput('publicKey is not a readable public key (PEM SPKI, base64 SPKI DER or base64 raw 32 bytes)', { field: 'publicKey' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw badInput(`publicKey must be an Ed25519 key, not ${key.asymmetricKeyType}`, { field: 'publicKey' });
  const der = key.export({ format: 'der', type: 'spki' });
  const fingerprint = createHash('sha256').update(der).digest('hex');
  return { keyId: `akey_${fingerprint.slice(0, 24)}`, fingerprint, pem: key.export({ format: 'pem', type: 'spki' }).toString() };
}

/** A signature argument: base64 (or base64url) of the 64 signature bytes. */
export function parseSignature(value: unknown): Buffer {
  const bytes = typeof value === 'string' && BASE64.test(value) ? Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : null;
  if (!bytes || bytes.length !== SIGNATURE_BYTES) throw badInput('signature must be base64 of a 64-byte Ed25519 signature', { field: 'signature' });
  return bytes;
}

/** Whether `signature` is the key's Ed25519 signature over the 32 bytes of the hex `digest`. */
export function verifyDigestSignature(publicKeyPem: string, digest: string, signature: Buffer): boolean {
  try {
    return verify(null, Buffer.from(digest, 'hex'), createPublicKey(publicKeyPem), signature);
  } catch {
    return false;
  }
}
