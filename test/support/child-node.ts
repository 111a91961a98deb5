import { join } from 'node:path';
import { NO_INTERNET_IMPORT } from './no-internet.js';

/**
 * `node` arguments for every Node process a test starts, before its own script: the no-internet
 * guard (test/support/no-internet.ts), and an exit when the test's process is gone, so that a
 * killed or failed run leaves no service behind (test/fixtures/exit-with-parent.mjs).
 */
export const CHILD_NODE_IMPORTS = [
  ...NO_INTERNET_IMPORT,
  '--import',
  join(import.meta.dirname, '..', 'fixtures', 'exit-with-parent.mjs'),
];
