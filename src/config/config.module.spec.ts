import { ConfigValidationError } from './env.schema.js';
import { loadBridgeConfig } from './load-config.js';
import { PreloadedConfig, resolveBridgeConfig } from './config.module.js';
import { TEST_TWILIO_AUTH_TOKEN } from '../../test/support/secrets.js';

const valid = { openai: { apiKey: 'k' }, twilio: { authToken: TEST_TWILIO_AUTH_TOKEN } };

describe('resolveBridgeConfig', () => {
  it('loads the settings through loadBridgeConfig', () => {
    const config = resolveBridgeConfig({ ...valid, limits: { maxConcurrentCalls: 7 } });
    expect(config.env).toMatchObject({ OPENAI_API_KEY: 'k', MAX_CONCURRENT_CALLS: 7 });
  });

  it('takes a configuration loadBridgeConfig returned as it is', () => {
    const config = loadBridgeConfig(valid);
    expect(resolveBridgeConfig(new PreloadedConfig(config))).toBe(config);
  });

  it('lists the problems of the module options before those of the settings', () => {
    let problems: string[] = [];
    try {
      resolveBridgeConfig({ openai: { apiKey: 'k' } }, ['surfaces.consol: not a surface']);
    } catch (error) {
      problems = (error as ConfigValidationError).problems;
    }
    expect(problems).toEqual([
      'surfaces.consol: not a surface',
      expect.stringMatching(/^twilio.authToken: is required/),
    ]);
  });
});
