import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import type { ServerConfig, TwilioConfig } from '../config/config.namespaces.js';
import { BridgeMount } from './bridge-mount.service.js';
import { StartupWarnings } from './startup-warnings.service.js';

function warningsFor(server: Partial<ServerConfig>, twilio: Partial<TwilioConfig>): string[] {
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  try {
    new StartupWarnings(
      { trustProxy: false, ...server } as ServerConfig,
      { validateSignatures: true, ...twilio } as TwilioConfig,
      { path: '' } as BridgeMount,
    ).onApplicationBootstrap();
    return warn.mock.calls.map(([message]) => String(message));
  } finally {
    warn.mockRestore();
  }
}

describe('StartupWarnings', () => {
  const nodeEnv = process.env.NODE_ENV;
  beforeEach(() => (process.env.NODE_ENV = 'production'));
  afterEach(() => (process.env.NODE_ENV = nodeEnv));

  it("warns when outbound calls would take their TwiML URL from the client's Host", () => {
    const warnings = warningsFor({}, { phoneNumber: '+15550009999' });
    expect(warnings).toEqual([expect.stringContaining('set PUBLIC_URL')]);
  });

  it('says nothing with PUBLIC_URL set, or without outbound calls', () => {
    expect(
      warningsFor({ publicUrl: 'https://voice.example.com' }, { phoneNumber: '+15550009999' }),
    ).toEqual([]);
    expect(warningsFor({}, {})).toEqual([]);
  });

  it('warns when signatures are off', () => {
    expect(warningsFor({}, { validateSignatures: false })).toEqual([
      expect.stringContaining('NOT checked'),
    ]);
  });
});
