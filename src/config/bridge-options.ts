import type { InjectionToken, Type } from '@nestjs/common';
import type { CallSettingsResolver } from '../call/call-settings-resolver.js';
import type { CallToolResolver } from '../tools/call-tool-resolver.js';
import type { BridgeSettings } from './bridge-settings.js';

/**
 * A resolver given in the options, as `@nestjs/config` and `@nestjs/terminus` take theirs: a
 * class (created in the bridge's module: it may inject global providers and what forRootAsync's
 * `imports` export), or `{ useExisting: token }` for one your own module provides.
 */
export type ResolverOption<T> = Type<T> | { useExisting: InjectionToken };

/** The bridge's HTTP surfaces; each is on unless set to `false`. */
export interface BridgeSurfaces {
  /** `/console` and `/console/api` (also needs `api.token`) */
  console?: boolean;
  /** `/api/calls` (place, list, follow, hang up and transfer calls) and `/api/history` */
  callControl?: boolean;
  /** `/metrics` (the counters are still kept) */
  metrics?: boolean;
  /** `/health` (liveness) and `/health/ready` (readiness) */
  health?: boolean;
  /** `/api/openai/webhook`, OpenAI's SIP webhook (also needs `sip.webhookSecret`) */
  sipWebhook?: boolean;
  /** `/api/stream-status`, and the `statusCallback` of the TwiML's `<Stream>` */
  statusCallback?: boolean;
}

export const SURFACES = [
  'console',
  'callControl',
  'metrics',
  'health',
  'sipWebhook',
  'statusCallback',
] as const satisfies readonly (keyof BridgeSurfaces)[];

export type Surface = (typeof SURFACES)[number];
export type ResolvedSurfaces = Readonly<Record<Surface, boolean>>;

/** What shapes the module itself, given to `forRoot` / `forRootAsync`, never by a factory. */
export interface BridgeModuleOptions {
  surfaces?: BridgeSurfaces;
  /** The per-call settings resolver (instead of, not beside, providing CALL_SETTINGS_RESOLVER). */
  settingsResolver?: ResolverOption<CallSettingsResolver>;
  /** The per-call tool resolver (instead of, not beside, providing CALL_TOOL_RESOLVER). */
  toolResolver?: ResolverOption<CallToolResolver>;
}

/**
 * What `TwilioBridgeModule.forRoot` takes: the settings (`BridgeSettings`, checked like the
 * environment), the surfaces and the resolvers. `forRoot()` with nothing reads the environment
 * over `./.env`, as `npm start` does.
 */
export interface TwilioBridgeOptions extends BridgeSettings, BridgeModuleOptions {}

/** The surfaces with their defaults, and what is wrong with the ones given. */
export function resolveSurfaces(given: unknown): {
  surfaces: ResolvedSurfaces;
  problems: string[];
} {
  const surfaces: Record<Surface, boolean> = {
    console: true,
    callControl: true,
    metrics: true,
    health: true,
    sipWebhook: true,
    statusCallback: true,
  };
  if (given === undefined) return { surfaces, problems: [] };
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    return { surfaces, problems: ['surfaces: expected an object such as { console: false }'] };
  }
  const problems: string[] = [];
  for (const [name, on] of Object.entries(given as Record<string, unknown>)) {
    if (!(SURFACES as readonly string[]).includes(name)) {
      problems.push(`surfaces.${name}: not a surface of the bridge (${SURFACES.join(', ')})`);
    } else if (typeof on === 'boolean') {
      surfaces[name as Surface] = on;
    } else if (on !== undefined) {
      problems.push(`surfaces.${name}: expected true or false, got ${typeof on}`);
    }
  }
  return { surfaces, problems };
}

/** A resolver option's problem, if it is neither a class nor `{ useExisting }`. */
export function resolverProblem(name: string, option: unknown): string | undefined {
  if (option === undefined || typeof option === 'function') return undefined;
  if (typeof option === 'object' && option !== null && 'useExisting' in option) {
    const token = option.useExisting;
    if (['string', 'symbol', 'function'].includes(typeof token)) return undefined;
  }
  return `${name}: expected a class, or { useExisting: token }`;
}
