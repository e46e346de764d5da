/**
 * Sanctions name matching, pure: normalisation, Jaro-Winkler, and a token-aligned score that
 * needs two agreeing name parts before it calls two names the same person.
 */

/** Jaro similarity (0..1) of two strings. */
export function jaro(a: string, b: string): number {
  if (a === b) return a.length === 0 ? 1 : 1;
  if (a.length === 0 || b.length === 0) return 0;
  const window = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  const aMatched = new Array<boolean>(a.length).fill(false);
  const bMatched = new Array<boolean>(b.length).fill(false);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(b.length - 1, i + window);
    for (let j = from; j <= to; j++) {
      if (bMatched[j] || a[i] !== b[j]) continue;
      aMatched[i] = bMatched[j] = true;
      matches++;
      break;
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < a.length; i++) {
    if (!aMatched[i]) continue;
    while (!bMatched[k]) k++;
    if (a[i] !== b[k]) transpositions++;
    k++;
  }
  const m = matches;
  return (m / a.length + m / b.length + (m - transpositions / 2) / m) / 3;
}

/** Jaro-Winkler: Jaro boosted by a shared prefix of up to 4 characters (scale 0.1, above 0.7). */
export function jaroWinkler(a: string, b: string, prefixScale = 0.1): number {
  const j = jaro(a, b);
  if (j <= 0.7) return j;
  let prefix = 0;
  while (prefix < Math.min(4, a.length, b.length) && a[prefix] === b[prefix]) prefix++;
  return j + prefix * prefixScale * (1 - j);
}

/** Letters NFD does not decompose into a base letter plus a mark. */
const FOLD: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };

/** Name particles and legal forms: they carry no identity, so they neither match nor miss. */
export const IGNORED_TOKENS = new Set([
  'al', 'el', 'bin', 'ibn', 'bint', 'ben', 'de', 'da', 'das', 'do', 'dos', 'del', 'della', 'di', 'du', 'la', 'le', 'van', 'von', 'der', 'den', 'mr', 'mrs', 'ms', 'dr',
  'llc', 'ltd', 'limited', 'inc', 'co', 'corp', 'corporation', 'company', 'sa', 'gmbh', 'ag', 'plc', 'jsc', 'ooo', 'the', 'and', 'of',
]);

/**
 * Normalises a name to comparable tokens: "LAST, First Middle" becomes "first middle last";
 * case, diacritics (NFD) and punctuation go; particles and legal forms are dropped.
 */
export function normaliseName(name: string): string[] {
  let text = name.trim();
  const commas = text.split(',');
  if (commas.length === 2 && commas[0].trim() && commas[1].trim()) text = `${commas[1]} ${commas[0]}`;
  const folded = text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (c) => FOLD[c] ?? c)
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  const tokens = folded.split(' ').filter(Boolean);
  const meaningful = tokens.filter((t) => !IGNORED_TOKENS.has(t));
  return meaningful.length > 0 ? meaningful : tokens;
}

export interface MatchSettings {
  /** Two tokens agree at or above this Jaro-Winkler similarity. */
  tokenAgreement: number;
  /** Subtracted per list-name token left without a partner (a missing middle name). */
  missingTokenPenalty: number;
  /** Tokens so common that agreement on them alone proves little. */
  commonTokens: ReadonlySet<string>;
  /** The highest score a match resting only on common tokens can reach. */
  commonOnlyCap: number;
}

export interface NameScore {
  score: number;
  agreeing: number;
}

/**
 * Scores a screened name against one list name, both already normalised. Tokens are paired
 * greedily by similarity (so word order does not matter); the score is the length-weighted
 * mean similarity of the pairs. Multi-token names need at least two agreeing pairs, and a
 * single-token name only matches a single-token name: a shared first name never matches.
 */
export function scoreTokens(query: readonly string[], listed: readonly string[], settings: MatchSettings): NameScore {
  if (query.length === 0 || listed.length === 0) return { score: 0, agreeing: 0 };
  if (query.length === 1 || listed.length === 1) {
    if (query.length !== listed.length) return { score: 0, agreeing: 0 };
    const score = jaroWinkler(query[0], listed[0]);
    const agreeing = score >= settings.tokenAgreement ? 1 : 0;
    const capped = settings.commonTokens.has(listed[0]) ? Math.min(score, settings.commonOnlyCap) : score;
    return { score: agreeing ? capped : Math.min(score, 0.5), agreeing };
  }
  const pairs: { q: number; l: number; sim: number }[] = [];
  for (let q = 0; q < query.length; q++) for (let l = 0; l < listed.length; l++) pairs.push({ q, l, sim: jaroWinkler(query[q], listed[l]) });
  pairs.sort((x, y) => y.sim - x.sim);
  const usedQ = new Set<number>();
  const usedL = new Set<number>();
  const chosen: typeof pairs = [];
  for (const pair of pairs) {
    if (usedQ.has(pair.q) || usedL.has(pair.l)) continue;
    usedQ.add(pair.q);
    usedL.add(pair.l);
    chosen.push(pair);
  }
  let weighted = 0;
  let weights = 0;
  for (const pair of chosen) {
    const weight = Math.max(query[pair.q].length, listed[pair.l].length);
    weighted += pair.sim * weight;
    weights += weight;
  }
  const agreed = chosen.filter((p) => p.sim >= settings.tokenAgreement);
  const missing = listed.length - chosen.length;
  let score = weighted / weights - missing * settings.missingTokenPenalty;
  if (agreed.length < 2) return { score: Math.min(score, 0.5), agreeing: agreed.length };
  if (agreed.every((p) => settings.commonTokens.has(listed[p.l]))) score = Math.min(score, settings.commonOnlyCap);
  return { score: Math.max(0, Math.min(1, score)), agreeing: agreed.length };
}

export interface ListedParty {
  id: string;
  /** The primary name as listed, for display. */
  name: string;
  /** Normalised tokens of the primary name and of every alias. */
  names: string[][];
}

export interface ScreeningSettings extends MatchSettings {
  potentialMatchThreshold: number;
  blockThreshold: number;
  maxMatches: number;
}

export interface NameMatch {
  listEntryId: string;
  name: string;
  score: number;
}

export type ScreeningStatus = 'CLEAR' | 'POTENTIAL_MATCH' | 'BLOCKED';

/** Screens one name against the list: every entry scoring at least the potential-match threshold, best first. */
export function screenName(name: string, list: readonly ListedParty[], settings: ScreeningSettings): NameMatch[] {
  return screenTokens(normaliseName(name), list, settings);
}

/** screenName for a name already normalised (normaliseName): what a cache of matches is keyed by. */
export function screenTokens(query: readonly string[], list: readonly ListedParty[], settings: ScreeningSettings): NameMatch[] {
  if (query.length === 0) return [];
  const matches: NameMatch[] = [];
  for (const party of list) {
    let best = 0;
    for (const tokens of party.names) best = Math.max(best, scoreTokens(query, tokens, settings).score);
    if (best >= settings.potentialMatchThreshold) matches.push({ listEntryId: party.id, name: party.name, score: Math.round(best * 1000) / 1000 });
  }
  return matches.sort((a, b) => b.score - a.score).slice(0, settings.maxMatches);
}

export function statusForMatches(matches: readonly { score: number }[], settings: Pick<ScreeningSettings, 'blockThreshold' | 'potentialMatchThreshold'>): ScreeningStatus {
  const top = Math.max(0, ...matches.map((m) => m.score));
  if (top >= settings.blockThreshold) return 'BLOCKED';
  if (top >= settings.potentialMatchThreshold) return 'POTENTIAL_MATCH';
  return 'CLEAR';
}
