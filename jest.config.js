// Nest 12 is ESM-only, so the tests run as ES modules (NODE_OPTIONS=--experimental-vm-modules,
// set by the npm scripts) through ts-jest's ESM preset.
/** @type {import('jest').Config} */
export default {
  // Node's, failing a suite that looks up any host outside loopback (teardown included).
  testEnvironment: '<rootDir>/test/support/no-internet-environment.mjs',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/bench', '<rootDir>/examples'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  // An app of its own with its own node_modules and Jest run (.ci/run), against the packed tarball.
  modulePathIgnorePatterns: ['<rootDir>/examples/host-app/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/examples/host-app/'],
  moduleNameMapper: {
    // The package's own name, as examples/ and tests import it, is this source: the same module
    // instances (one CallContext token) as the app under test, not a copy built into dist/.
    '^twilio-realtime-bridge$': '<rootDir>/src/index.ts',
    '^twilio-realtime-bridge/testing$': '<rootDir>/src/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 20000,
};
