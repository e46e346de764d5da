import { join } from 'node:path';
import { loadComplianceConfig } from './config';
import { jaro, jaroWinkler, normaliseName, scoreTokens, screenName, statusForMatches } from './matcher';
import { loadSanctionsList } from './sdn';

const settings = loadComplianceConfig().sanctions;
const { list } = loadSanctionsList(join(__dirname, 'sanctions-data'));

describe('Jaro-Winkler', () => {
  it.each([
    ['MARTHA', 'MARHTA', 0.944, 0.961],
    ['DWAYNE', 'DUANE', 0.822, 0.84],
    ['DIXON', 'DICKSONX', 0.767, 0.813],
    ['abc', 'xyz', 0, 0],
    ['same', 'same', 1, 1],
    ['', 'x', 0, 0],
  ])('%s / %s', (a, b, j, jw) => {
    expect(jaro(a, b)).toBeCloseTo(j, 3);
    expect(jaroWinkler(a, b)).toBeCloseTo(jw, 3);
    expect(jaroWinkler(b, a)).toBeCloseTo(jw, 3);
  });
});

describe('normaliseName', () => {
  it.each([
    ['KASPARENKO, Viktor Dragomirov', ['viktor', 'dragomirov', 'kasparenko']],
    ['  Müller-Štěpánek,   Jürgen ', ['jurgen', 'muller', 'stepanek']],
    ["Khaled bin Samir AL-NAJDI", ['khaled', 'samir', 'najdi']],
    ['ZEPHYRIS MARITIME TRADING LLC', ['zephyris', 'maritime', 'trading']],
    ["O'Brien, Seán", ['sean', 'obrien']],
    ['Øster Łukasz Straße', ['oster', 'lukasz', 'strasse']],
    ['Al', ['al']],
  ])('%s', (name, tokens) => {
    expect(normaliseName(name)).toEqual(tokens);
  });
});

describe('scoreTokens', () => {
  it('ignores word order', () => {
    expect(scoreTokens(['kasparenko', 'viktor'], ['viktor', 'kasparenko'], settings).score).toBe(1);
  });
  it('a single shared first name never matches a full name', () => {
    expect(scoreTokens(['viktor'], ['viktor', 'kasparenko'], settings).score).toBe(0);
    expect(scoreTokens(['viktor', 'smirnov'], ['viktor', 'kasparenko'], settings).score).toBeLessThan(settings.potentialMatchThreshold);
  });
  it('agreement on common tokens alone is capped below the block threshold', () => {
    const score = scoreTokens(['maria', 'gonzalez'], ['maria', 'elena', 'gonzales'], settings).score;
    expect(score).toBeLessThanOrEqual(settings.commonOnlyCap);
    expect(score).toBeLessThan(settings.blockThreshold);
  });
});

describe('screenName against the synthetic list', () => {
  it.each([
    ['exact listed name', 'Viktor Dragomirov Kasparenko', '10001', 'BLOCKED'],
    ['misspelt and reordered', 'Kasparenko, Victor Dragomirow', '10001', 'BLOCKED'],
    ['misspelt, reordered, middle name missing', 'Victor Kasparenko', '10001', 'POTENTIAL_MATCH'],
    ['alias from alt.csv', 'Vitya Kasparenko', '10001', 'BLOCKED'],
    ['diacritics dropped', 'Jurgen Muller Stepanek', '10006', 'BLOCKED'],
    ['particles dropped', 'Khalid Najdi', '10005', 'BLOCKED'],
    ['entity without legal form', 'Zephyris Maritime Trading', '10003', 'BLOCKED'],
    ['vessel', 'Starling Dawn', '10004', 'BLOCKED'],
    ['similar common name is at most a potential match', 'Maria Gonzalez', '10002', 'POTENTIAL_MATCH'],
  ])('%s: %s', (_case, name, id, status) => {
    const matches = screenName(name, list, settings);
    expect(matches[0]?.listEntryId).toBe(id);
    expect(statusForMatches(matches, settings)).toBe(status);
  });

  it.each([
    ['a shared common first name', 'Maria Santos'],
    ['a shared first name only', 'Viktor Petrenko'],
    ['an unrelated name', 'Jane Doe'],
    ['a single first name', 'Viktor'],
    ['an empty name', '  '],
  ])('%s is clear: %s', (_case, name) => {
    expect(statusForMatches(screenName(name, list, settings), settings)).toBe('CLEAR');
  });
});
