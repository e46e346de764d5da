import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { badInput } from '../../../runtime/errors';

/**
 * Where a webhook may be sent. Partners name the URL, so it could point at our own network
 * (SSRF): with the guard on, every address the host resolves to must be public. The check runs
 * at registration and again before each send, and the send connects to the address checked
 * (a DNS answer that changes in between — rebinding — is never dialled).
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'reserved';

export interface UrlPolicy {
  /** https only (production). */
  httpsOnly: boolean;
  /** Refuse every address that is not public. */
  addressGuard: boolean;
  /** With the guard on, loopback is still allowed (tests). */
  allowLoopback: boolean;
}

function list(ranges: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const blocks = new BlockList();
  for (const [network, prefix, family] of ranges) blocks.addSubnet(network, prefix, family);
  return blocks;
}

// Cloud metadata services answer on these (AWS/GCP/Azure 169.254.169.254, AWS IPv6, Alibaba).
const METADATA = list([['169.254.169.254', 32, 'ipv4'], ['fd00:ec2::254', 128, 'ipv6'], ['100.100.100.200', 32, 'ipv4']]);
const LOOPBACK = list([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);
const UNSPECIFIED = list([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']]);
const LINK_LOCAL = list([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]);
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['fc00::', 7, 'ipv6'], // unique local
]);
const RESERVED = list([
  ['192.0.0.0', 24, 'ipv4'], ['192.0.2.0', 24, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'], ['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'],
  ['ff00::', 8, 'ipv6'], ['2001:db8::', 32, 'ipv6'], ['64:ff9b::', 96, 'ipv6'], ['100::', 64, 'ipv6'],
]);

/** IPv4 written inside IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 address it is. */
function unwrapMapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

export function classifyAddress(raw: string): AddressClass {
  const address = unwrapMapped(raw);
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(address) === 0) return 'reserved';
  if (METADATA.check(address, family)) return 'metadata';
  if (UNSPECIFIED.check(address, family)) return 'unspecified';
  if (LOOPBACK.check(address, family)) return 'loopback';
  if (LINK_LOCAL.check(address, family)) return 'link-local';
  if (PRIVATE.check(address, family)) return 'private';
  if (RESERVED.check(address, family)) return 'reserved';
  return 'public';
}

export const MAX_URL_LENGTH = 2048;

/** The URL's own rules (no DNS): a parsed http(s) URL without credentials. Throws BAD_USER_INPUT. */
export function parseWebhookUrl(raw: unknown, policy: UrlPolicy, field = 'url'): URL {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_URL_LENGTH) throw badInput(`${field} must be a URL of at most ${MAX_URL_LENGTH} characters`, { field });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badInput(`${field} is not a valid URL`, { field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput(`${field} must be an http(s) URL`, { field });
  if (policy.httpsOnly && url.protocol !== 'https:') throw badInput(`${field} must be an https:// URL`, { field });
  if (url.username || url.password) throw badInput(`${field} must not carry credentials`, { field });
  if (url.hash) throw badInput(`${field} must not have a fragment`, { field });
  return url;
}

/** Thrown when a URL's host resolves somewhere the policy refuses (or not at all). */
export class RefusedAddressError extends Error {
  constructor(message: string, readonly addressClass: AddressClass | 'unresolved') {
    super(message);
  }
}

export interface CheckedTarget {
  url: URL;
  /** The one address the send connects to. */
  address: string;
  family: 4 | 6;
}

export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;
const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/** Resolves the URL's host and checks every address; the first is the one to dial. */
export async function resolveTarget(url: URL, policy: UrlPolicy, resolve: Resolve = systemResolve): Promise<CheckedTarget> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let answers: { address: string; family: number }[];
  try {
    answers = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolve(host);
  } catch {
    throw new RefusedAddressError(`${url.hostname} does not resolve`, 'unresolved');
  }
  if (answers.length === 0) throw new RefusedAddressError(`${url.hostname} does not resolve`, 'unresolved');
  if (policy.addressGuard) {
    for (const { address } of answers) {
      const kind = classifyAddress(address);
      if (kind === 'public' || (kind === 'loopback' && policy.allowLoopback)) continue;
      throw new RefusedAddressError(`${url.hostname} resolves to a ${kind} address`, kind);
    }
  }
  return { url, address: answers[0].address, family: answers[0].family === 6 ? 6 : 4 };
}

/** Registration: the URL's rules, then its addresses; any refusal is BAD_USER_INPUT. */
export async function checkWebhookUrl(raw: unknown, policy: UrlPolicy, resolve?: Resolve, field = 'url'): Promise<URL> {
  const url = parseWebhookUrl(raw, policy, field);
  try {
    await resolveTarget(url, policy, resolve);
  } catch (error) {
    if (error instanceof RefusedAddressError) throw badInput(`${field} is refused: ${error.message}`, { field, reason: error.addressClass });
    throw error;
  }
  return url;
}
