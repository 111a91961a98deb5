import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The guard every suite and the service processes it starts run under
// (test/fixtures/no-internet.mjs, test/support/no-internet-environment.mjs), tried in processes
// of their own so that what they refuse goes to logs of their own.
const ROOT = join(import.meta.dirname, '..');
const GUARD = join(ROOT, 'test', 'fixtures', 'no-internet.mjs');

function runGuarded(script: string, logFile: string, esm = false): string {
  const args = ['--import', GUARD, ...(esm ? ['--input-type=module'] : []), '-e', script];
  return execFileSync(process.execPath, args, {
    env: { PATH: process.env.PATH, NO_INTERNET_LOG: logFile },
    encoding: 'utf8',
  });
}

const logged = (logFile: string) =>
  existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : [];

describe('the no-internet guard of the test suite', () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'no-internet-'));
    log = join(dir, 'lookups.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses names and addresses outside loopback as DNS does offline, and logs them', () => {
    const hosts = [
      'api.openai.com',
      'api.twilio.com',
      '192.0.2.1',
      'localhost',
      '127.0.0.1',
      '::1',
    ];
    const output = runGuarded(
      `const dns = require('node:dns');
       const results = {};
       let left = ${hosts.length};
       for (const host of ${JSON.stringify(hosts)}) {
         dns.lookup(host, (error) => {
           results[host] = error ? error.code : 'resolved';
           if (--left === 0) console.log(JSON.stringify(results));
         });
       }`,
      log,
    );
    expect(JSON.parse(output)).toEqual({
      'api.openai.com': 'ENOTFOUND',
      'api.twilio.com': 'ENOTFOUND',
      '192.0.2.1': 'ENOTFOUND',
      localhost: 'resolved',
      '127.0.0.1': 'resolved',
      '::1': 'resolved',
    });
    expect(logged(log).sort()).toEqual(['192.0.2.1', 'api.openai.com', 'api.twilio.com']);
  });

  it('refuses queries that skip dns.lookup (a Resolver asks its server directly)', async () => {
    // A DNS "server" on loopback that only counts what reaches it.
    const server = createSocket('udp4');
    let queries = 0;
    server.on('message', () => queries++);
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    try {
      const output = runGuarded(
        `const dns = require('node:dns');
         const resolver = new dns.promises.Resolver({ timeout: 200, tries: 1 });
         resolver.setServers(['127.0.0.1:${server.address().port}']);
         Promise.allSettled([
           resolver.resolve4('api.openai.com'),
           dns.promises.resolveTxt('api.twilio.com'),
           new Promise((resolve) => dns.resolveMx('example.com', (error) => resolve(error))),
         ]).then((results) => console.log(JSON.stringify(results.map((r) => (r.reason ?? r.value)?.code))));`,
        log,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(JSON.parse(output)).toEqual(['ENOTFOUND', 'ENOTFOUND', 'ENOTFOUND']);
    } finally {
      server.close();
    }
    expect(queries).toBe(0);
    expect(logged(log).sort()).toEqual(['api.openai.com', 'api.twilio.com', 'example.com']);
  });

  it("guards ES modules' named imports of node:dns too", () => {
    const output = runGuarded(
      `import dns, { lookup } from 'node:dns';
       console.log(JSON.stringify(lookup === dns.lookup));`,
      log,
      true,
    );
    expect(JSON.parse(output)).toBe(true);
  });

  it('fails a suite that looks a name up in its own teardown (its top-level afterAll)', () => {
    const probe = join(ROOT, 'test', 'fixtures', 'no-internet-probes', 'teardown-lookup.probe.ts');
    const result = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--testMatch', probe],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          NODE_OPTIONS: '--experimental-vm-modules --disable-warning=ExperimentalWarning',
          NO_INTERNET_LOG: log,
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(logged(log)).toEqual(['api.twilio.com']);
    expect(result.stderr).toContain('this suite looked up api.twilio.com');
    expect(result.status).toBe(1);
  }, 150_000);
});
