/** Jest runs TypeScript through SWC (ts-jest does not support TypeScript 7). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/runtime', '<rootDir>/subgraphs', '<rootDir>/gateway', '<rootDir>/schema', '<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
  testTimeout: 60000,
};
