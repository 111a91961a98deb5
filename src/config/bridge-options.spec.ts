import { resolverProblem, resolveSurfaces } from './bridge-options.js';

describe('the surfaces option', () => {
  it('serves every surface unless one is switched off', () => {
    expect(resolveSurfaces(undefined).surfaces).toEqual({
      console: true,
      callControl: true,
      metrics: true,
      health: true,
      sipWebhook: true,
      statusCallback: true,
    });
    expect(resolveSurfaces({ console: false, metrics: undefined }).surfaces).toMatchObject({
      console: false,
      metrics: true,
    });
  });

  it('names an unknown surface and a value that is not a boolean', () => {
    expect(resolveSurfaces({ consol: false, health: 'off' }).problems).toEqual([
      'surfaces.consol: not a surface of the bridge (console, callControl, metrics, health, sipWebhook, statusCallback)',
      'surfaces.health: expected true or false, got string',
    ]);
    expect(resolveSurfaces(false).problems).toEqual([
      'surfaces: expected an object such as { console: false }',
    ]);
  });
});

describe('a resolver option', () => {
  class Resolver {}

  it('is a class or { useExisting: token }', () => {
    expect(resolverProblem('settingsResolver', Resolver)).toBeUndefined();
    expect(resolverProblem('settingsResolver', { useExisting: Symbol('X') })).toBeUndefined();
    expect(resolverProblem('toolResolver', { useExisting: 'TOOLS' })).toBeUndefined();
    expect(resolverProblem('toolResolver', new Resolver())).toBe(
      'toolResolver: expected a class, or { useExisting: token }',
    );
    expect(resolverProblem('toolResolver', { useClass: Resolver })).toBe(
      'toolResolver: expected a class, or { useExisting: token }',
    );
  });
});
