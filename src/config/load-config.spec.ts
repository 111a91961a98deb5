import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError } from './env.schema.js';
import { loadBridgeConfig } from './load-config.js';
import { TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';

describe('loadBridgeConfig', () => {
  let dir: string;
  let envFile: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'load-config-'));
    envFile = join(dir, '.env');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads .env under the process environment, which wins, and parses the result once', () => {
    writeFileSync(
      envFile,
      `OPENAI_API_KEY=sk-file\nTWILIO_AUTH_TOKEN="${TEST_TWILIO_AUTH_TOKEN}"\nPORT=9000\n`,
    );
    const config = loadBridgeConfig({ env: { PORT: '7000' }, envFile });
    expect(config.env).toMatchObject({
      OPENAI_API_KEY: 'sk-file',
      TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN,
      PORT: 7000,
    });
    expect(config.envFile).toBe(envFile);
  });

  it('needs no file, and reports every problem of the merged environment at once', () => {
    expect(
      loadBridgeConfig({
        env: { OPENAI_API_KEY: 'k', TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN },
        envFile: join(dir, 'none'),
      }).envFile,
    ).toBeUndefined();
    writeFileSync(envFile, 'PORT=eighty\n');
    expect(() => loadBridgeConfig({ env: {}, envFile })).toThrow(ConfigValidationError);
    try {
      loadBridgeConfig({ env: {}, envFile });
    } catch (error) {
      expect((error as ConfigValidationError).problems).toEqual([
        expect.stringMatching(/^PORT: /),
        expect.stringMatching(/^OPENAI_API_KEY: is required/),
        expect.stringMatching(/^TWILIO_AUTH_TOKEN: is required/),
      ]);
    }
  });

  it('reads a .env file the settings name, under them', () => {
    writeFileSync(envFile, 'OPENAI_VOICE=sage\nPORT=7000\n');
    const config = loadBridgeConfig({
      openai: { apiKey: 'k' },
      twilio: { authToken: TEST_TWILIO_AUTH_TOKEN },
      envFile,
      server: { port: 9000 },
    });
    expect(config.env).toMatchObject({ OPENAI_VOICE: 'sage', PORT: 9000 });
    expect(config.envFile).toBe(envFile);
  });

  it('reads the process environment over ./.env without settings, but no .env under NODE_ENV=test', () => {
    const cwd = process.cwd();
    const nodeEnv = process.env.NODE_ENV;
    writeFileSync(envFile, `OPENAI_API_KEY=sk-file\nTWILIO_AUTH_TOKEN=${TEST_TWILIO_AUTH_TOKEN}\n`);
    process.chdir(dir);
    try {
      process.env.NODE_ENV = 'test';
      expect(() => loadBridgeConfig()).toThrow(/OPENAI_API_KEY: is required/);
      process.env.NODE_ENV = 'production';
      const config = loadBridgeConfig();
      expect(config.env.OPENAI_API_KEY).toBe('sk-file');
      expect(config.envFile).toBe(envFile);
    } finally {
      process.env.NODE_ENV = nodeEnv;
      process.chdir(cwd);
    }
  });
});

describe('loadBridgeConfig with settings given in code', () => {
  const required = { openai: { apiKey: 'k' }, twilio: { authToken: TEST_TWILIO_AUTH_TOKEN } };

  it('reads nothing but the settings and the defaults', () => {
    const before = process.env.OPENAI_VOICE;
    process.env.OPENAI_VOICE = 'from-the-environment';
    try {
      const config = loadBridgeConfig(required);
      expect(config.env.OPENAI_VOICE).toBe('alloy');
      expect(config.envFile).toBeUndefined();
    } finally {
      if (before === undefined) delete process.env.OPENAI_VOICE;
      else process.env.OPENAI_VOICE = before;
    }
  });

  it('lets settings win over an environment they ask for, typed values as the schema reads them', () => {
    const config = loadBridgeConfig({
      ...required,
      env: { PORT: '7000', OPENAI_VOICE: 'cedar', MAX_CONCURRENT_CALLS: '9' },
      server: { port: 9000, trustProxy: true },
      api: { docs: true },
      openai: { ...required.openai, greeting: undefined },
    });
    expect(config.env).toMatchObject({
      PORT: 9000,
      TRUST_PROXY: true,
      API_DOCS: true,
      AI_GREETING: undefined,
      OPENAI_VOICE: 'cedar',
      MAX_CONCURRENT_CALLS: 9,
    });
  });

  it('names a problem of a setting by its path, and of the environment by its variable', () => {
    try {
      loadBridgeConfig({ env: { PORT: 'eighty' }, openai: { apiKey: 'k', voice: 7 as never } });
      throw new Error('no error');
    } catch (error) {
      expect((error as ConfigValidationError).problems).toEqual([
        'openai.voice: expected a string, got a number',
        expect.stringMatching(/^PORT: expected a whole number/),
        expect.stringMatching(/^TWILIO_AUTH_TOKEN: is required/),
      ]);
    }
  });

  it('checks twilio.accountSid as it checks TWILIO_ACCOUNT_SID, named by its path', () => {
    expect(() =>
      loadBridgeConfig({
        ...required,
        twilio: { ...required.twilio, accountSid: `SK${'a'.repeat(32)}` },
      }),
    ).toThrow(/twilio\.accountSid: an API key SID \(SK\.\.\.\)/);
  });
});
