import { ConfigurableModuleBuilder, Global, Module, type DynamicModule } from '@nestjs/common';
import {
  resolverProblem,
  resolveSurfaces,
  type BridgeModuleOptions,
  type ResolvedSurfaces,
} from './bridge-options.js';
import type { BridgeSettings } from './bridge-settings.js';
import { CONFIG_KEYS, configProviders } from './config.namespaces.js';
import { ConfigValidationError } from './env.schema.js';
import { loadBridgeConfig, type BridgeConfig } from './load-config.js';

/** The validated configuration of this application's bridge, from which the namespaces are built. */
export const BRIDGE_CONFIG = 'TWILIO_BRIDGE_CONFIG';
/** Which of the bridge's surfaces this application serves (`ResolvedSurfaces`). */
export const BRIDGE_SURFACES = 'TWILIO_BRIDGE_SURFACES';
/** The resolvers given in the options (`BridgeResolverOptions`). */
export const BRIDGE_RESOLVERS = 'TWILIO_BRIDGE_RESOLVERS';
/** What is wrong with the module's own options, reported with the settings' problems. */
const MODULE_OPTION_PROBLEMS = 'TWILIO_BRIDGE_MODULE_OPTION_PROBLEMS';

export type BridgeResolverOptions = Pick<BridgeModuleOptions, 'settingsResolver' | 'toolResolver'>;

export const {
  ConfigurableModuleClass: ConfigurableBridgeConfigModule,
  MODULE_OPTIONS_TOKEN: BRIDGE_OPTIONS,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BridgeSettings>({ moduleName: 'TwilioBridge' })
  .setClassMethodName('forRoot')
  .build();

/**
 * A configuration `loadBridgeConfig` returned already: how `createBridgeApp` hands over the one
 * it read (bootstrapBridge needs the port and drain time before the application exists).
 */
export class PreloadedConfig {
  constructor(readonly config: BridgeConfig) {}
}

/** Options to configuration, validated once, when the module is initialised (not when imported). */
export function resolveBridgeConfig(
  options: BridgeSettings | PreloadedConfig,
  moduleProblems: readonly string[] = [],
): BridgeConfig {
  let config: BridgeConfig | undefined;
  const problems = [...moduleProblems];
  try {
    config = options instanceof PreloadedConfig ? options.config : loadBridgeConfig(options);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !config) throw new ConfigValidationError(problems);
  return config;
}

/**
 * The bridge's typed configuration namespaces, fed from its module options (never read from
 * `process.env` here unless the options ask), so two applications in one process each have
 * their own. Global within the application, so the bridge's feature modules inject them without
 * importing this; the tokens are the bridge's own and clash with nothing of the host application.
 */
@Global()
@Module({
  providers: [
    {
      provide: BRIDGE_CONFIG,
      useFactory: resolveBridgeConfig,
      inject: [BRIDGE_OPTIONS, MODULE_OPTION_PROBLEMS],
    },
    ...configProviders(BRIDGE_CONFIG),
  ],
  exports: [BRIDGE_CONFIG, ...CONFIG_KEYS],
})
export class BridgeConfigModule extends ConfigurableBridgeConfigModule {
  /** The module for a configuration already loaded (createBridgeApp, so `npm start`). */
  static preloaded(config: BridgeConfig): DynamicModule {
    return {
      module: BridgeConfigModule,
      providers: [{ provide: BRIDGE_OPTIONS, useValue: new PreloadedConfig(config) }],
    };
  }
}

/**
 * Adds the module's own options to the configuration module: the surfaces, and the resolvers
 * given by class, created here so that they may inject what forRootAsync's `imports` export.
 * Returns the surfaces, which decide the bridge's imports.
 */
export function withModuleOptions(
  config: DynamicModule,
  options: BridgeModuleOptions,
): { module: DynamicModule; surfaces: ResolvedSurfaces } {
  const { surfaces, problems } = resolveSurfaces(options.surfaces);
  const resolvers: BridgeResolverOptions = {
    settingsResolver: options.settingsResolver,
    toolResolver: options.toolResolver,
  };
  const classes = Object.entries(resolvers).flatMap(([name, option]: [string, unknown]) => {
    const problem = resolverProblem(name, option);
    if (problem) problems.push(problem);
    return !problem && typeof option === 'function' ? [option as DynamicModule['module']] : [];
  });
  const module: DynamicModule = {
    ...config,
    providers: [
      ...(config.providers ?? []),
      ...classes,
      { provide: BRIDGE_SURFACES, useValue: surfaces },
      { provide: BRIDGE_RESOLVERS, useValue: resolvers },
      { provide: MODULE_OPTION_PROBLEMS, useValue: problems },
    ],
    exports: [...(config.exports ?? []), BRIDGE_SURFACES, BRIDGE_RESOLVERS],
  };
  return { module, surfaces };
}
