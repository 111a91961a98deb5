import { ConfigurableModuleBuilder, Global, Module } from '@nestjs/common';
import { CONFIG_KEYS, configProviders } from './config.namespaces.js';
import { ConfigValidationError } from './env.schema.js';
import { loadBridgeConfig, type BridgeConfig, type LoadConfigOptions } from './load-config.js';

/**
 * What `TwilioBridgeModule.forRoot` takes: the bridge's settings, checked by the same schema as
 * the environment (docs/configuration.md). Empty, it reads the environment over `./.env`, as
 * `npm start` does.
 */
export interface TwilioBridgeOptions extends LoadConfigOptions {
  /** A configuration `loadBridgeConfig` already returned, instead of `settings`/`env`/`envFile`. */
  config?: BridgeConfig;
}

/** The validated configuration of this application's bridge, from which the namespaces are built. */
export const BRIDGE_CONFIG = 'TWILIO_BRIDGE_CONFIG';

export const {
  ConfigurableModuleClass: ConfigurableBridgeConfigModule,
  MODULE_OPTIONS_TOKEN: BRIDGE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TwilioBridgeOptions>({ moduleName: 'TwilioBridge' })
  .setClassMethodName('forRoot')
  .build();

/** Options to configuration, validated once, when the module is initialised (not when imported). */
export function resolveBridgeConfig(options: TwilioBridgeOptions | undefined): BridgeConfig {
  const { config, ...load } = options ?? {};
  if (config === undefined) return loadBridgeConfig(load);
  const given = Object.keys(load).filter((key) => load[key as keyof typeof load] !== undefined);
  if (given.length > 0) {
    throw new ConfigValidationError([
      `config: a loaded configuration was given together with ${given.join(', ')}; give one or the other`,
    ]);
  }
  return config;
}

/**
 * The bridge's typed configuration namespaces, fed from its module options (never read from
 * `process.env` here), so two applications in one process each have their own. Global within
 * the application, so the bridge's feature modules inject them without importing this; the
 * tokens are the bridge's own and clash with nothing of the host application.
 */
@Global()
@Module({
  providers: [
    { provide: BRIDGE_CONFIG, useFactory: resolveBridgeConfig, inject: [BRIDGE_OPTIONS] },
    ...configProviders(BRIDGE_CONFIG),
  ],
  exports: [BRIDGE_CONFIG, ...CONFIG_KEYS],
})
export class BridgeConfigModule extends ConfigurableBridgeConfigModule {}
