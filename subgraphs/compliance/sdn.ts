import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normaliseName, type ListedParty } from './matcher';

/**
 * Reads sanctions lists in the OFAC SDN CSV format: `sdn.csv` (ent_num, SDN_Name, SDN_Type,
 * Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks) and
 * `alt.csv` (ent_num, alt_num, alt_type, alt_name, alt_remarks). No header row; "-0-" marks
 * an empty field. Accepts the real files: quoted fields with commas and doubled quotes,
 * CRLF, a trailing Ctrl-Z, and Windows-1252 when the bytes are not UTF-8.
 */
export interface SdnEntry {
  entNum: string;
  name: string;
  type: string | null;
  program: string | null;
  title: string | null;
  remarks: string | null;
}

export interface AltName {
  entNum: string;
  altNum: string;
  type: string | null;
  name: string;
  remarks: string | null;
}

/** Splits CSV text into rows of fields (RFC 4180 quoting). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0].trim() === '')) rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"' && field.trim() === '') {
      field = '';
      quoted = true;
    } else if (c === ',') endField();
    else if (c === '\n') endRow();
    else if (c === '\r' || c === '\x1a') {
      // CR of CRLF, and the DOS end-of-file mark the real files end with.
    } else field += c;
    i++;
  }
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

/** "-0-" (with or without padding) and blanks are empty. */
export function fieldValue(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const value = raw.trim();
  return value === '' || value === '-0-' ? null : value;
}

export function parseSdn(text: string): SdnEntry[] {
  const entries: SdnEntry[] = [];
  for (const row of parseCsv(text)) {
    const entNum = fieldValue(row[0]);
    const name = fieldValue(row[1]);
    if (!entNum || !name || !/^\d+$/.test(entNum)) continue;
    entries.push({ entNum, name, type: fieldValue(row[2]), program: fieldValue(row[3]), title: fieldValue(row[4]), remarks: fieldValue(row[11]) });
  }
  return entries;
}

export function parseAlt(text: string): AltName[] {
  const names: AltName[] = [];
  for (const row of parseCsv(text)) {
    const entNum = fieldValue(row[0]);
    const name = fieldValue(row[3]);
    if (!entNum || !name || !/^\d+$/.test(entNum)) continue;
    names.push({ entNum, altNum: fieldValue(row[1]) ?? '', type: fieldValue(row[2]), name, remarks: fieldValue(row[4]) });
  }
  return names;
}

/** UTF-8 when valid, else Windows-1252 (older OFAC downloads). */
export function decodeListFile(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** Joins entries with their aliases into the matcher's prepared form. */
export function buildList(entries: readonly SdnEntry[], aliases: readonly AltName[]): ListedParty[] {
  const byEnt = new Map<string, AltName[]>();
  for (const alias of aliases) byEnt.set(alias.entNum, [...(byEnt.get(alias.entNum) ?? []), alias]);
  return entries.map((entry) => ({
    id: entry.entNum,
    name: entry.name,
    names: [entry.name, ...(byEnt.get(entry.entNum) ?? []).map((a) => a.name)].map(normaliseName).filter((tokens) => tokens.length > 0),
  }));
}

/** Loads `sdn.csv` and (if present) `alt.csv` from a directory. */
export function loadSanctionsList(directory: string): { list: ListedParty[]; entries: number; aliases: number } {
  const sdnPath = join(directory, 'sdn.csv');
  const altPath = join(directory, 'alt.csv');
  const entries = parseSdn(decodeListFile(readFileSync(sdnPath)));
  const aliases = existsSync(altPath) ? parseAlt(decodeListFile(readFileSync(altPath))) : [];
  return { list: buildList(entries, aliases), entries: entries.length, aliases: aliases.length };
}
