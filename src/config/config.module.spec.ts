import { ConfigValidationError } from './env.schema.js';
import { loadBridgeConfig } from './load-config.js';
import { resolveBridgeConfig } from './config.module.js';
import { TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';

const valid = { OPENAI_API_KEY: 'k', TWILIO_AUTH_TOKEN: TEST_TWILIO_AUTH_TOKEN };

describe('resolveBridgeConfig', () => {
  it('loads settings over the given environment through loadBridgeConfig', () => {
    const config = resolveBridgeConfig({
      env: { ...valid, OPENAI_VOICE: 'alloy' },
      envFile: false,
      settings: { OPENAI_VOICE: 'marin', MAX_CONCURRENT_CALLS: 7, TRUST_PROXY: true },
    });
    expect(config.env).toMatchObject({
      OPENAI_VOICE: 'marin',
      MAX_CONCURRENT_CALLS: 7,
      TRUST_PROXY: true,
    });
  });

  it('takes a configuration loadBridgeConfig returned as it is', () => {
    const config = loadBridgeConfig({ env: valid, envFile: false });
    expect(resolveBridgeConfig({ config })).toBe(config);
  });

  it('refuses a loaded configuration given together with settings', () => {
    const config = loadBridgeConfig({ env: valid, envFile: false });
    expect(() => resolveBridgeConfig({ config, settings: { OPENAI_VOICE: 'marin' } })).toThrow(
      new ConfigValidationError([
        'config: a loaded configuration was given together with settings; give one or the other',
      ]),
    );
  });
});
