import { badInput } from '../../runtime/errors';
import { isCountryCode } from '../../runtime/countries';

/** A customer's details after validation: trimmed, the email lower-cased, the country upper-cased. */
export interface CustomerDetails {
  name: string;
  email: string;
  country: string;
}

const CONTROL_CHARACTERS = /[\p{Cc}\u2028\u2029]/u;
// Deliberately plain: one @, no spaces, a dotted domain whose labels are letters, digits and hyphens.
const EMAIL_PATTERN = /^[^\s@]{1,64}@(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export const NAME_MAX_LENGTH = 200;
export const EMAIL_MAX_LENGTH = 254;

export function validateCustomerName(value: unknown): string {
  if (typeof value !== 'string') throw badInput('name must be a string', { field: 'name' });
  const name = value.trim();
  if (name.length === 0) throw badInput('name must not be blank', { field: 'name' });
  if ([...name].length > NAME_MAX_LENGTH) throw badInput(`name must be at most ${NAME_MAX_LENGTH} characters`, { field: 'name' });
  if (CONTROL_CHARACTERS.test(name)) throw badInput('name must not contain control characters', { field: 'name' });
  return name;
}

export function validateEmail(value: unknown): string {
  if (typeof value !== 'string') throw badInput('email must be a string', { field: 'email' });
  const email = value.trim();
  if (email.length > EMAIL_MAX_LENGTH) throw badInput(`email must be at most ${EMAIL_MAX_LENGTH} characters`, { field: 'email' });
  if (!EMAIL_PATTERN.test(email) || CONTROL_CHARACTERS.test(email)) {
    throw badInput('email is not a valid address like "name@example.com"', { field: 'email' });
  }
  return email.toLowerCase();
}

export function validateCountry(value: unknown): string {
  if (typeof value !== 'string') throw badInput('country must be a string', { field: 'country' });
  const country = value.trim().toUpperCase();
  if (!isCountryCode(country)) {
    throw badInput(`country ${JSON.stringify(value.slice(0, 16))} is not an ISO 3166-1 alpha-2 code like "US"`, { field: 'country' });
  }
  return country;
}

export function validateCustomerInput(input: { name: unknown; email: unknown; country: unknown }): CustomerDetails {
  return { name: validateCustomerName(input.name), email: validateEmail(input.email), country: validateCountry(input.country) };
}
