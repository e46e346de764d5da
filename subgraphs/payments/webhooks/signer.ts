import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a delivery is signed in. */
export const SIGNATURE_HEADER = 'Paygraph-Signature';
/** How old a signed timestamp a receiver should still accept (the replay window). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 over `<timestamp>.<body>` with each
 * secret that signs now (two during a rotation, so receivers may switch at their own pace).
 */
export function signatureHeader(secrets: readonly string[], body: string, timestamp: number): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${hmac(secret, timestamp, body)}`)].join(',');
}

/**
 * What a receiver does: true when some v1 signature matches `secret` and the timestamp is no
 * older (or newer) than `toleranceSeconds` from `now`.
 */
export function verifySignature(header: string, body: string, secret: string, now = Date.now(), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): boolean {
  const parts = header.split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([k]) => k === 't').map(([, v]) => v);
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0])) return false;
  const timestamp = Number(timestamps[0]);
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  return parts
    .filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? ''))
    .some(([, v]) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
}
