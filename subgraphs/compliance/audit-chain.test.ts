import { canonicalJson, GENESIS_HASH, hashRecord, verifyChain, type ChainRecord } from './audit-chain';

function chain(n: number): ChainRecord[] {
  const records: ChainRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const fields = { sequence: i, prevHash, kind: 'KYC_DECISION', data: { customerId: `cus_${i}`, tier: 'BASIC', amount: '10.00' }, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) };
    const record = { _id: `aud_${i}`, ...fields, hash: hashRecord(fields) };
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

describe('audit hash chain', () => {
  it('canonical JSON sorts keys at every level and writes dates and bigints as strings', () => {
    expect(canonicalJson({ b: 1, a: { d: [2n, new Date(0)], c: null } })).toBe('{"a":{"c":null,"d":["2","1970-01-01T00:00:00.000Z"]},"b":1}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('the hash covers sequence, prevHash, kind, data and time', () => {
    const base = { sequence: 1, prevHash: GENESIS_HASH, kind: 'X', data: { a: 1 }, at: new Date(0) };
    const h = hashRecord(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecord({ ...base, data: { a: 1 } })).toBe(h);
    for (const changed of [{ sequence: 2 }, { prevHash: 'f'.repeat(64) }, { kind: 'Y' }, { data: { a: 2 } }, { at: new Date(1) }]) {
      expect(hashRecord({ ...base, ...changed })).not.toBe(h);
    }
  });

  it('an intact chain verifies', () => {
    expect(verifyChain(chain(5))).toEqual({ valid: true, recordsChecked: 5, firstBrokenSequence: null, firstBrokenRecordId: null });
    expect(verifyChain([])).toEqual({ valid: true, recordsChecked: 0, firstBrokenSequence: null, firstBrokenRecordId: null });
  });

  it('finds an edited record', () => {
    const records = chain(5);
    records[2] = { ...records[2], data: { customerId: 'cus_3', tier: 'ENHANCED', amount: '10.00' } };
    expect(verifyChain(records)).toMatchObject({ valid: false, firstBrokenSequence: 3, firstBrokenRecordId: 'aud_3' });
  });

  it('finds an edited record whose hash was recomputed: the next record no longer links', () => {
    const records = chain(5);
    const forged = { ...records[1], kind: 'FORGED' };
    records[1] = { ...forged, hash: hashRecord(forged) };
    expect(verifyChain(records)).toMatchObject({ valid: false, firstBrokenSequence: 3 });
  });

  it('finds a removed record (a gap in the sequence)', () => {
    const records = chain(5);
    records.splice(3, 1);
    expect(verifyChain(records)).toMatchObject({ valid: false, firstBrokenSequence: 5, firstBrokenRecordId: 'aud_5' });
  });
});
