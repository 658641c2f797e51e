/**
 * Projects: `unit` (pure logic, no services, seconds), `integration` (the real local stack:
 * MariaDB, Kafka, Debezium/Connect, Redis, started once by the global setup), `faults` (fault
 * injection on that stack; `npm run test:faults`), `brokers` (faults on the three-broker stack;
 * `npm run test:brokers`), `containers`, `secure`, `chaos` (`npm run test:chaos`), and the soaks `soak` / `soak-brokers` (not in CI).
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
    {
      // `npm run test:brokers`: faults that need the three-broker stack (STACK_KAFKA_BROKERS=3).
      displayName: 'brokers',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/brokers/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/faults-timeout.ts'],
    },
    {
      // testcontainers on the locally built images (npm run test:containers; README "Run with Docker")
      displayName: 'containers',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/containers/**/*.test.ts'],
      globalSetup: '<rootDir>/test/containers/support/global-setup.js',
      globalTeardown: '<rootDir>/test/containers/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/containers/support/timeout.ts'],
    },
    {
      // `npm run test:secure`: the secure stack (STACK_SECURE=1), its misconfiguration and ACL
      // tests, and the table integration tests (the representative set) run on it. Select it
      // alone: it replaces a plain stack in the same STACK_DIR.
      displayName: 'secure',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: [
        '<rootDir>/test/secure/**/*.test.ts',
        '<rootDir>/test/integration/intake/tables.test.ts',
      ],
      globalSetup: '<rootDir>/test/support/global-setup-secure.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-timeout.ts'],
    },
    {
      // the chaos oracle at size: many seeded fault schedules on both Kafka clients
      // (`npm run test:chaos`, not in CI; CI runs test/integration/oracle/chaos.test.ts)
      displayName: 'chaos',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
    },
    {
      // the oracle at 50,000 writes and every single-broker fault at 100,000 changes
      // (`npm run test:soak`, not in CI)
      displayName: 'soak',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/soak/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/soak/brokers\\.soak\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
    },
    {
      // leader-broker loss at 100,000 changes on the three-broker stack (`npm run test:soak:brokers`)
      displayName: 'soak-brokers',
      testEnvironment: 'node',
      transform: ts,
      ...esmOnly,
      testMatch: ['<rootDir>/test/soak/brokers.soak.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.js',
      globalTeardown: '<rootDir>/test/support/global-teardown.js',
    },
  ],
};
