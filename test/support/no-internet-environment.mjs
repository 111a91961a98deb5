// Jest's Node environment, for every test file, with the no-internet guard
// (test/fixtures/no-internet.mjs) in the worker. A suite fails if anything looked up a name outside
// loopback while it ran, teardown included: the check runs when the file's run has finished
// (jest-circus's run_finish, after every afterAll), so lookups made while a suite stops the
// services it started are counted too. It is reported as an error of the file, outside any test.
import { appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestEnvironment } from 'jest-environment-node';
import '../fixtures/no-internet.mjs';

// One log per worker, which the service processes its tests start write to as well (the
// variable is passed on: test/support/no-internet.ts). Set before any test file's process.env
// is made, so each sees it.
process.env.NO_INTERNET_LOG ??= join(tmpdir(), `no-internet-${process.pid}.log`);
const logFile = process.env.NO_INTERNET_LOG;
appendFileSync(logFile, '');

const lookups = () => readFileSync(logFile, 'utf8').split('\n').filter(Boolean);

export default class NoInternetEnvironment extends TestEnvironment {
  lookupsBefore = 0;

  async setup() {
    await super.setup();
    this.lookupsBefore = lookups().length;
  }

  handleTestEvent(event, state) {
    if (event.name !== 'run_finish') return;
    const looked = [...new Set(lookups().slice(this.lookupsBefore))];
    if (looked.length > 0) {
      state.unhandledErrors.push(
        new Error(
          `this suite looked up ${looked.join(', ')}: tests reach loopback only; point the URL at a fake`,
        ),
      );
    }
  }
}
