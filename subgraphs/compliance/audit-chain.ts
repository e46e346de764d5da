import { createHash } from 'node:crypto';

/**
 * The audit trail's hash chain, pure. Each record's hash is sha256 over a canonical JSON of
 * (sequence, prevHash, kind, data, at); each record carries its predecessor's hash, so
 * editing, removing or reordering any record breaks the chain from there on.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainFields {
  sequence: number;
  prevHash: string;
  kind: string;
  data: unknown;
  at: Date;
}

export interface ChainRecord extends ChainFields {
  _id: string;
  hash: string;
}

/** JSON with object keys sorted at every level; Dates as ISO strings, BigInts as digit strings. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('audit data must not hold non-finite numbers');
  return JSON.stringify(value);
}

export function hashRecord(fields: ChainFields): string {
  const { sequence, prevHash, kind, data, at } = fields;
  return createHash('sha256').update(canonicalJson({ sequence, prevHash, kind, data, at })).digest('hex');
}

/** Plain JSON values only in audit data, so what is hashed is exactly what the database returns. */
export function toAuditData(value: unknown): unknown {
  return JSON.parse(canonicalJson(value));
}

export interface ChainVerification {
  valid: boolean;
  recordsChecked: number;
  firstBrokenSequence: number | null;
  firstBrokenRecordId: string | null;
}

/**
 * Walks records in sequence order: sequences must run 1, 2, 3… without gaps, each prevHash
 * must be the previous record's hash, and each hash must match its recomputed value.
 * Feed records in batches; `finish` gives the result.
 */
export class ChainVerifier {
  private expectedSequence = 1;
  private prevHash = GENESIS_HASH;
  private checked = 0;
  private broken: ChainRecord | null = null;

  get isBroken(): boolean {
    return this.broken !== null;
  }

  check(record: ChainRecord): void {
    if (this.broken) return;
    this.checked++;
    const ok = record.sequence === this.expectedSequence && record.prevHash === this.prevHash && record.hash === hashRecord(record);
    if (!ok) {
      this.broken = record;
      return;
    }
    this.expectedSequence++;
    this.prevHash = record.hash;
  }

  finish(): ChainVerification {
    return {
      valid: this.broken === null,
      recordsChecked: this.checked,
      firstBrokenSequence: this.broken?.sequence ?? null,
      firstBrokenRecordId: this.broken?._id ?? null,
    };
  }
}

export function verifyChain(records: readonly ChainRecord[]): ChainVerification {
  const verifier = new ChainVerifier();
  for (const record of records) verifier.check(record);
  return verifier.finish();
}
