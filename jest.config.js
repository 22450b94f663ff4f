// Three projects: pure unit tests, integration tests against DynamoDB Local and fauxqs
// (started once by the global setup), and CDK stack assertions.
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
  ],
  testTimeout: 60000,
};
