import { COUNTRY_CODES, isCountryCode } from './countries';

describe('isCountryCode', () => {
  it('holds exactly the 249 officially assigned alpha-2 codes', () => {
    expect(COUNTRY_CODES.size).toBe(249);
    for (const code of COUNTRY_CODES) expect(code).toMatch(/^[A-Z]{2}$/);
  });

  it.each(['US', 'GB', 'DE', 'JP', 'BH', 'CL', 'AX', 'SS', 'ZW'])('accepts %s', (code) => {
    expect(isCountryCode(code)).toBe(true);
  });

  it.each(['us', 'UK', 'XK', 'EU', 'USA', 'U', '', ' US', 'US ', 'ZZ', 'AA'])('rejects %j', (code) => {
    expect(isCountryCode(code)).toBe(false);
  });

  it('rejects non-strings', () => {
    for (const value of [undefined, null, 1, { $gt: '' }, ['US']]) expect(isCountryCode(value)).toBe(false);
  });
});
