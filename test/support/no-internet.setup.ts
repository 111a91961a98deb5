import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One log per Jest worker; the service processes a test starts write to it too (the variable is
// passed on). A suite fails if a name outside loopback was looked up while it ran.
process.env.NO_INTERNET_LOG ??= join(tmpdir(), `no-internet-${process.pid}.log`);
const logFile = process.env.NO_INTERNET_LOG;
if (!existsSync(logFile)) writeFileSync(logFile, '');
await import('../fixtures/no-internet.mjs');

let lookupsBefore = 0;
const lookups = (): string[] => readFileSync(logFile, 'utf8').split('\n').filter(Boolean);

beforeAll(() => {
  lookupsBefore = lookups().length;
});

afterAll(() => {
  const blocked = [...new Set(lookups().slice(lookupsBefore))];
  if (blocked.length > 0) {
    throw new Error(
      `this suite looked up ${blocked.join(', ')}: tests reach loopback only; point the URL at a fake`,
    );
  }
});
