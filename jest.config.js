// Four projects: pure unit tests, integration tests against DynamoDB Local and fauxqs
// (started once by the global setup), CDK stack assertions, and browser tests of the web view.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

// The test environment holds the service's log output back and prints it only for what failed
// (test/setup/quiet-logs-environment.ts); `TEST_LOGS=1 npm test` shows everything as it is written.
const common = {
  testEnvironment: '<rootDir>/test/setup/quiet-logs-environment.ts',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/setup/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
    { ...common, displayName: 'stacks', testMatch: ['<rootDir>/test/stacks/**/*.test.ts'] },
    // The clinician web view in a real browser (Debian's Chromium) against a real `npm start`.
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
  testTimeout: 60000,
};
