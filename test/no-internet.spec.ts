import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The guard every suite and service process runs under (test/fixtures/no-internet.mjs), tried in
// a process of its own so that its refusals go to a log of their own.
const GUARD = join(import.meta.dirname, 'fixtures', 'no-internet.mjs');

function lookUp(hosts: string[], logFile: string): Record<string, string> {
  const script = `
    const dns = require('node:dns');
    const results = {};
    let left = ${hosts.length};
    for (const host of ${JSON.stringify(hosts)}) {
      dns.lookup(host, (error) => {
        results[host] = error ? error.code : 'resolved';
        if (--left === 0) console.log(JSON.stringify(results));
      });
    }`;
  const output = execFileSync(process.execPath, ['--import', GUARD, '-e', script], {
    env: { PATH: process.env.PATH, NO_INTERNET_LOG: logFile },
    encoding: 'utf8',
  });
  return JSON.parse(output) as Record<string, string>;
}

describe('the no-internet guard of the test suite', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'no-internet-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses names outside loopback as DNS does offline, and logs them for the suite', () => {
    const log = join(dir, 'lookups.log');
    const results = lookUp(['api.openai.com', 'api.twilio.com', 'localhost', '127.0.0.1'], log);
    expect(results).toEqual({
      'api.openai.com': 'ENOTFOUND',
      'api.twilio.com': 'ENOTFOUND',
      localhost: 'resolved',
      '127.0.0.1': 'resolved',
    });
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'api.openai.com',
      'api.twilio.com',
    ]);
  });
});
