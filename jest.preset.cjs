// Shared jest setup: TypeScript through SWC, and workspace packages resolved to their
// sources through the "source" export condition, so tests need no build. The global setup decides
// once per run whether test servers run as local processes or in containers (LOCK_TEST_SERVERS).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['source', 'node', 'require', 'default'] },
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30_000,
  globalSetup: require('node:path').join(__dirname, 'packages/testkit/src/jest-global-setup.ts'),
};
