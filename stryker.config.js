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
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  mutate: [
    // Who may talk to us: signatures, tokens, secrets, the URL they are computed over.
    'src/twilio/stream-token.service.ts',
    'src/twilio/twilio-signature.service.ts',
    'src/twilio/public-url.ts',
    'src/twilio/stream-replay-memory.ts',
    'src/sip-call/webhook-verifier.ts',
    'src/sip-call/webhook-deliveries.ts',
    'src/config/secret.ts',
    'src/http/bearer-token.ts',
    'src/console/console-sessions.service.ts',
    'src/console/login-throttle.service.ts',
    'src/http/client-address.ts',
    // The cluster bus: signed envelopes, the shapes read back from Redis, the rules the owner
    // re-checks, and the seen-once memory.
    'src/directory/bus-envelope.ts',
    'src/directory/bus-messages.ts',
    'src/directory/ttl-memory.ts',
    'src/call-control/call-control.rules.ts',
    // What a stranger's socket may cost before and after it proves a call.
    'src/media-call/media-stream-connection.ts',
    'src/media-call/media-rate-limiter.ts',
    // What reaches logs, events and the console.
    'src/logging/log-throttle.ts',
    'src/logging/redact-url.ts',
    'src/text/plain-text.ts',
    'src/text/text-bound.ts',
  ],
};
