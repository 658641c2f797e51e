/**
 * Three projects: `unit` (pure logic, no services, seconds), `integration` (the real local
 * stack: MariaDB, Kafka, Debezium/Connect, Redis, started once by the global setup) and `faults`
 * (fault injection on that stack: kills, outages, races, fuzzing; `npm run test:faults`).
 */
const ts = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  // ESM-only dependencies (the @platformatic/kafka client), transpiled to CommonJS for Jest.
  '/node_modules/@platformatic/.+\\.js$': '<rootDir>/test/support/esm-transform.js',
};
const esmOnly = { transformIgnorePatterns: ['/node_modules/(?!@platformatic/)'] };

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
    {
      displayName: 'faults',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/faults-timeout.ts'],
    },
  ],
};
