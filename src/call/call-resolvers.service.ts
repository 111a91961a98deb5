import { Inject, Injectable, type InjectionToken, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ResolverOption } from '../config/bridge-options.js';
import { BRIDGE_RESOLVERS, type BridgeResolverOptions } from '../config/config.module.js';
import { CALL_TOOL_RESOLVER, type CallToolResolver } from '../tools/call-tool-resolver.js';
import { CALL_SETTINGS_RESOLVER, type CallSettingsResolver } from './call-settings-resolver.js';

/**
 * The application's per-call resolvers, found once at start-up: the one given in the options
 * (`settingsResolver`, `toolResolver`), or the one a module provides under the token
 * (CALL_SETTINGS_RESOLVER, CALL_TOOL_RESOLVER). Both at once is a mistake, refused at start-up
 * rather than settled silently by module order.
 */
@Injectable()
export class CallResolvers implements OnModuleInit {
  settings: CallSettingsResolver | null = null;
  tools: CallToolResolver | null = null;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(BRIDGE_RESOLVERS) private readonly options: BridgeResolverOptions,
  ) {}

  onModuleInit(): void {
    this.settings = this.find('settingsResolver', this.options.settingsResolver, {
      token: CALL_SETTINGS_RESOLVER,
      name: 'CALL_SETTINGS_RESOLVER',
    });
    this.tools = this.find('toolResolver', this.options.toolResolver, {
      token: CALL_TOOL_RESOLVER,
      name: 'CALL_TOOL_RESOLVER',
    });
  }

  private find<T>(
    option: string,
    given: ResolverOption<T> | undefined,
    legacy: { token: symbol; name: string },
  ): T | null {
    const provided = this.lookup<T>(legacy.token);
    if (given === undefined) return provided ? checked(provided, legacy.name) : null;
    const token: InjectionToken = typeof given === 'function' ? given : given.useExisting;
    const resolver = this.lookup<T>(token);
    if (!resolver) {
      throw new Error(
        `${option}: nothing is provided as ${describeToken(token)}; provide it in one of your modules`,
      );
    }
    if (provided && provided !== resolver) {
      throw new Error(
        `${option}: given in the options and also provided as ${legacy.name}; keep one of the two`,
      );
    }
    return checked(resolver, option);
  }

  /** Across every module of the application (a team's own modules included). */
  private lookup<T>(token: InjectionToken): T | undefined {
    try {
      return this.moduleRef.get<T>(token as never, { strict: false });
    } catch {
      return undefined;
    }
  }
}

function checked<T>(resolver: T, name: string): T {
  const method = (resolver as { resolve?: unknown } | null)?.resolve;
  if (typeof method !== 'function') throw new Error(`${name}: has no resolve() method`);
  return resolver;
}

function describeToken(token: InjectionToken): string {
  return typeof token === 'function' ? token.name : String(token);
}
