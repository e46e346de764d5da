import { OperationNames } from './operation-names';

test('keeps valid names up to the capacity, then counts new ones as other', () => {
  const names = new OperationNames(2);
  expect(names.label('CreatePayment')).toBe('CreatePayment');
  expect(names.label('Feed')).toBe('Feed');
  expect(names.label('Third')).toBe('other');
  expect(names.label('CreatePayment')).toBe('CreatePayment');
});

test('labels missing and malformed names without echoing them', () => {
  const names = new OperationNames();
  expect(names.label(undefined)).toBe('anonymous');
  expect(names.label('')).toBe('anonymous');
  expect(names.label('drop table; --')).toBe('invalid');
  expect(names.label('x'.repeat(65))).toBe('invalid');
});

test("counts a gateway fetch under its client operation's name", () => {
  expect(new OperationNames().label('CreatePayment__payments__0')).toBe('CreatePayment');
});
