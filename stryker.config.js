// Mutation testing of the security-critical code whose tests run in-process (`npm run
// test:mutation`; not part of CI: it takes minutes on two cores). A mutant that survives is a
// change to a defence that no test notices: kill it with a test, or say in the issue why it is
// equivalent.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: true,
  },
  coverageAnalysis: 'perTest',
  checkers: [],
  concurrency: 2,
  timeoutMS: 20000,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  tempDirName: '.stryker-tmp',
  mutate: [
    'src/twilio/stream-token.service.ts',
    'src/twilio/twilio-signature.service.ts',
    'src/twilio/public-url.ts',
    'src/twilio/stream-replay-memory.ts',
    'src/directory/ttl-memory.ts',
    'src/call-control/call-control.rules.ts',
    'src/console/console-sessions.service.ts',
    'src/http/bearer-token.ts',
    'src/logging/log-throttle.ts',
    'src/sip-call/webhook-deliveries.ts',
    'src/media-call/media-rate-limiter.ts',
    'src/config/secret.ts',
  ],
};
