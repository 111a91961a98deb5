import { Injectable, type Type } from '@nestjs/common';
import { MODULE_PATH } from '@nestjs/common/constants.js';
import { ApplicationConfig, ModulesContainer } from '@nestjs/core';

/**
 * Where the application mounted the bridge: its global prefix (`app.setGlobalPrefix('voice')`)
 * and the `RouterModule` path given to `TwilioBridgeModule`, as `/voice/bridge`, or '' at the
 * root. Twilio must be sent (and signatures checked against) the paths the routes really have,
 * and the upgrade router must serve its sockets there too.
 *
 * Read on use, not at construction: the host sets its prefix after `NestFactory.create`, and
 * nothing is served before `init()`, which fixes it.
 */
@Injectable()
export class BridgeMount {
  private modulePath = '';

  constructor(
    private readonly appConfig: ApplicationConfig,
    private readonly modules: ModulesContainer,
  ) {}

  /** `/prefix[/module-path]` without a trailing slash, or ''. */
  get path(): string {
    return joinPaths(this.appConfig.getGlobalPrefix(), this.modulePath);
  }

  /**
   * The path `RouterModule.register([{ path, module: TwilioBridgeModule }])` gave the bridge's
   * module. Nest applies such a path to the controllers of that module only, and the bridge's
   * controllers sit in the modules it imports: it is handed on to them here, from
   * `TwilioBridgeModule.configure()`, which Nest runs before it maps the routes.
   */
  adoptModulePath(bridgeModule: Type): void {
    const key = MODULE_PATH + this.modules.applicationId;
    const path = (Reflect.getMetadata(key, bridgeModule) as string | undefined) ?? '';
    this.modulePath = path;
    if (!path) return;
    const bridge = [...this.modules.values()].find((ref) => ref.metatype === bridgeModule);
    for (const inner of bridge?.imports ?? []) {
      // Global modules are linked into every module's imports: they are not the bridge's. And
      // only where the application gave no path of its own (a RouterModule child route, say).
      if (!inner.isGlobal && Reflect.getMetadata(key, inner.metatype) === undefined) {
        Reflect.defineMetadata(key, path, inner.metatype);
      }
    }
  }
}

/** `a`, `b` joined as `/a/b` (each may have or lack slashes), '' when both are empty. */
export function joinPaths(...parts: string[]): string {
  const joined = parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment.length > 0)
    .join('/');
  return joined ? `/${joined}` : '';
}
