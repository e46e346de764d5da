import { ErrorCode } from '../../runtime/errors';
import { validateCountry, validateCustomerName, validateEmail } from './customer-rules';
import { errorCodeOf } from '../../tests/support/error-code';

describe('customer details', () => {
  it('trims names and keeps letters of every script', () => {
    expect(validateCustomerName('  Zoë O’Brien-Łukasz ')).toBe('Zoë O’Brien-Łukasz');
    expect(validateCustomerName('山田太郎')).toBe('山田太郎');
    expect(validateCustomerName('x'.repeat(200))).toHaveLength(200);
  });

  it.each(['', '   ', 'x'.repeat(201), 'a\nb', 'a\u0000b', 'a\u2028b', 42, null])('refuses name %j', (name) => {
    expect(errorCodeOf(() => validateCustomerName(name))).toBe(ErrorCode.BAD_USER_INPUT);
  });

  it('lower-cases and trims emails', () => {
    expect(validateEmail(' Ada.Lovelace+pay@Example.CO.uk ')).toBe('ada.lovelace+pay@example.co.uk');
  });

  it.each(['', 'a', 'a@', '@b.co', 'a@b', 'a b@c.co', 'a@b..co', 'a@-b.co', 'a@@b.co', `${'a'.repeat(65)}@b.co`, `a@${'b'.repeat(250)}.co`, { $gt: '' }])(
    'refuses email %j',
    (email) => {
      expect(errorCodeOf(() => validateEmail(email))).toBe(ErrorCode.BAD_USER_INPUT);
    },
  );

  it('accepts ISO 3166-1 alpha-2 countries in any case', () => {
    expect(validateCountry('us')).toBe('US');
    expect(validateCountry(' DE ')).toBe('DE');
  });

  it.each(['UK', 'XX', 'USA', '', 'EU', 7])('refuses country %j', (country) => {
    expect(errorCodeOf(() => validateCountry(country))).toBe(ErrorCode.BAD_USER_INPUT);
  });
});
