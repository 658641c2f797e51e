/**
 * Three projects: `unit` (pure logic, no services, seconds), `integration` (the real local
 * stack: MariaDB, Kafka, Debezium/Connect, Redis, started once by the global setup) and `faults`
 * (fault injection on that stack: kills, outages, races, fuzzing; `npm run test:faults`).
 */
const ts = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: ts,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: ts,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
    {
      displayName: 'faults',
      testEnvironment: 'node',
      transform: ts,
      testMatch: ['<rootDir>/test/faults/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/faults-timeout.ts'],
    },
    {
      // the oracle at 50,000 writes (`npm run test:soak`, not in CI)
      displayName: 'soak',
      testEnvironment: 'node',
      transform: ts,
      testMatch: ['<rootDir>/test/soak/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
    },
  ],
};
