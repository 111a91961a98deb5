// Jest for mutation testing (npm run test:mutation): the in-process specs beside the code only.
// Stryker cannot see coverage inside a child `node dist/main.js`, so the e2e tests would only
// report every mutant as uncovered while costing minutes per run.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  roots: ['<rootDir>/src'],
  testMatch: ['**/*.spec.ts'],
};
