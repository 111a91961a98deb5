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

  it('reads no .env under NODE_ENV=test unless told to', () => {
    const cwd = process.cwd();
    writeFileSync(envFile, `OPENAI_API_KEY=sk-file\nTWILIO_AUTH_TOKEN=${TEST_TWILIO_AUTH_TOKEN}\n`);
    process.chdir(dir);
    try {
      expect(() => loadBridgeConfig({ env: { NODE_ENV: 'test' } })).toThrow(/OPENAI_API_KEY/);
      expect(loadBridgeConfig({ env: { NODE_ENV: 'production' } }).env.OPENAI_API_KEY).toBe(
        'sk-file',
      );
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('loadBridgeConfig with settings given in code', () => {
  it('lets settings win over the environment, numbers and booleans written as in it', () => {
    const config = loadBridgeConfig({
      env: { OPENAI_API_KEY: 'k', TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN, PORT: '7000' },
      envFile: false,
      settings: { PORT: 9000, API_DOCS: true, AI_GREETING: undefined },
    });
    expect(config.env).toMatchObject({ PORT: 9000, API_DOCS: true, AI_GREETING: undefined });
  });

  it('lists unknown names and values of the wrong type with every problem of the schema', () => {
    const settings = { OPENAI_VOCE: 'marin', OPENAI_VOICE: { name: 'marin' }, PORT: 'eighty' };
    try {
      loadBridgeConfig({ env: {}, envFile: false, settings: settings as never });
      throw new Error('no error');
    } catch (error) {
      expect((error as ConfigValidationError).problems).toEqual([
        'OPENAI_VOCE: not a setting of the bridge (docs/configuration.md lists them)',
        'OPENAI_VOICE: expected a string, number or boolean, got a value of type object',
        expect.stringMatching(/^PORT: expected a whole number/),
        expect.stringMatching(/^OPENAI_API_KEY: is required/),
        expect.stringMatching(/^TWILIO_AUTH_TOKEN: is required/),
      ]);
    }
  });
});
