// The testing kit's polling helpers (src/testing/wait.ts), by the path the tests import them.
export { sleep, waitUntil } from '../../src/testing/wait.js';
