// Nest 12 is ESM-only, so the tests run as ES modules (NODE_OPTIONS=--experimental-vm-modules,
// set by the npm scripts) through ts-jest's ESM preset.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/src', '<rootDir>/test', '<rootDir>/bench'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  moduleNameMapper: {
    // The package's own name, as examples/ and tests import it, is this source: the same module
    // instances (one CallContext token) as the app under test, not a copy built into dist/.
    '^twilio-realtime-bridge$': '<rootDir>/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 20000,
};
