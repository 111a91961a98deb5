import { jest } from '@jest/globals';
import { logTransport } from './log-transport.js';

describe('logTransport', () => {
  const missing = (specifier: string): string => {
    throw Object.assign(new Error(`Cannot find module '${specifier}'`), {
      code: 'MODULE_NOT_FOUND',
    });
  };

  it('logs JSON outside development, without looking for pino-pretty', () => {
    const resolve = jest.fn(missing);
    for (const nodeEnv of [undefined, 'production', 'test']) {
      expect(logTransport(nodeEnv, resolve)).toEqual({});
    }
    expect(resolve).not.toHaveBeenCalled();
  });

  it('is pretty under development, through the pino-pretty it resolved', () => {
    const { transport, warning } = logTransport('development', () => '/opt/x/pino-pretty/index.js');
    expect(transport?.target).toBe('/opt/x/pino-pretty/index.js');
    expect(warning).toBeUndefined();
  });

  it('logs JSON under development without pino-pretty, and says why in one line', () => {
    const { transport, warning } = logTransport('development', missing);
    expect(transport).toBeUndefined();
    expect(warning).toMatch(/pino-pretty is not installed.*Install pino-pretty for pretty logs/);
    expect(warning).not.toContain('\n');
  });

  it('finds the pino-pretty this repository installs', () => {
    expect(logTransport('development').transport?.target).toMatch(/pino-pretty/);
  });
});
