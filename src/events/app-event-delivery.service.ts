import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  EVENT_LISTENER_METADATA,
  EventEmitter2,
  type OnEventMetadata,
} from '@nestjs/event-emitter';
import { CallEventBus } from './call-event-bus.js';

/**
 * Call events reach the application's `@OnEvent` handlers exactly once, whether or not the
 * application imported `EventEmitterModule.forRoot()`:
 * - it did: its EventEmitter2 (the one `app.get(EventEmitter2)` returns, the only one: the
 *   bridge registers none) gets every call event, and @nestjs/event-emitter's own loader
 *   delivers it to the handlers, with their options and scopes. `@OnEvent('call.*')` needs
 *   `wildcard: true` there, as for any emitter; the exact names work with the defaults;
 * - it did not: the bridge subscribes the handlers to its own bus itself, as that loader would
 *   (singleton providers and controllers; a request-scoped handler needs the module).
 * Whether the application has one is Nest's answer, by injection, not a guess by order.
 */
@Injectable()
export class AppEventDelivery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('CallEvents');
  private stop?: () => void;

  constructor(
    private readonly bus: CallEventBus,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Optional() private readonly appEvents?: EventEmitter2,
  ) {}

  onApplicationBootstrap(): void {
    const app = this.appEvents;
    if (app && app !== this.bus) {
      const forward = (event: string | string[], payload: unknown) => app.emit(event, payload);
      this.bus.onAny(forward);
      this.stop = () => this.bus.offAny(forward);
      return;
    }
    this.subscribeHandlers();
  }

  onApplicationShutdown(): void {
    this.stop?.();
    this.stop = undefined;
  }

  private subscribeHandlers(): void {
    const added: Array<[OnEventMetadata['event'], (...args: unknown[]) => unknown]> = [];
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || wrapper.isAlias) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = instance[method];
        if (typeof handler !== 'function') continue;
        const listeners = Reflect.getMetadata(EVENT_LISTENER_METADATA, handler) as
          OnEventMetadata[] | undefined;
        if (!listeners) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          this.log.warn(
            `${wrapper.name}.${method}: a request-scoped @OnEvent handler gets call events only when the application imports EventEmitterModule.forRoot()`,
          );
          continue;
        }
        for (const { event, options } of listeners) {
          // As the module's loader does: a rejection with `suppressErrors: false` is the app's.
          const listener = (...args: unknown[]) => void this.call(instance, method, args, options);
          if (options?.prependListener) this.bus.prependListener(event, listener, options);
          else this.bus.on(event, listener, options);
          added.push([event, listener]);
        }
      }
    }
    this.stop = () => {
      for (const [event, listener] of added) this.bus.off(event, listener);
    };
  }

  /** As @nestjs/event-emitter calls a handler: errors logged unless `suppressErrors: false`. */
  private async call(
    instance: Record<string, unknown>,
    method: string,
    args: unknown[],
    options: OnEventMetadata['options'],
  ): Promise<unknown> {
    try {
      return await (instance[method] as (...a: unknown[]) => unknown).apply(instance, args);
    } catch (error) {
      if (options?.suppressErrors === false) throw error;
      const failure = error as Error;
      this.log.error(failure.message, failure.stack);
      return undefined;
    }
  }
}
