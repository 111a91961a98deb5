import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { CallContext } from '../call/call-context.js';
import { contextIdOf } from '../call/live-call-context.js';
import { REALTIME_TOOL_METADATA, type RealtimeToolOptions } from './realtime-tool.decorator.js';
import { ToolRegistry } from './tool-registry.service.js';

type Method = (args: unknown, call: CallContext, signal: AbortSignal) => unknown;

/**
 * Finds `@RealtimeTool` methods on the providers of every module at start-up (Nest's
 * DiscoveryService, as @nestjs/event-emitter finds `@OnEvent` listeners) and registers each one
 * with a handler that calls the right instance:
 * - a singleton's tool runs on the one instance;
 * - a per-call (request-scoped, or depending on one) provider's tool runs on that call's
 *   instance, resolved in the call's DI context through the provider's own module, so Nest
 *   creates it once per call and shares it with everything else of the call that injects it.
 * Transient providers have no instance a call could be said to own, so a tool on one is refused.
 * So is a tool on a per-call factory provider: what a factory makes is known only once it runs
 * (a subclass, a proxy, another class altogether), so its class's tools cannot be trusted to be
 * there; a class provider that injects what the factory makes can carry them instead.
 */
@Injectable()
export class ToolExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: ToolRegistry,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      // Aliases would list their provider's tools twice. Request-scoped class providers have a
      // prototype instance at start-up; per-call and transient factories have none.
      if (wrapper.isAlias) continue;
      const instance: unknown = wrapper.instance;
      if (instance && typeof instance === 'object') {
        const prototype = Object.getPrototypeOf(instance) as object;
        for (const [methodName, options] of this.toolsOn(prototype)) {
          this.registerMethod(wrapper, instance, methodName, options);
        }
      } else if (wrapper.isFactory) {
        this.refuseFactoryTools(wrapper);
      }
    }
  }

  /** The `@RealtimeTool` methods of a prototype (and of those it inherits from). */
  private toolsOn(prototype: object): Array<[string, RealtimeToolOptions]> {
    const tools: Array<[string, RealtimeToolOptions]> = [];
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, unknown>)[methodName];
      if (typeof method !== 'function') continue;
      const options = this.reflector.get<RealtimeToolOptions | undefined>(
        REALTIME_TOOL_METADATA,
        method as Method,
      );
      if (options) tools.push([methodName, options]);
    }
    return tools;
  }

  /**
   * A factory provider with no instance at start-up: per call (Scope.REQUEST, or injecting a
   * per-call provider) or transient. Provided under a class that has tools, it was meant to
   * carry them, but what the factory returns need not be of that class: refused, rather than
   * dropped in silence. (A singleton factory that made nothing has nothing to call; under a
   * string or symbol token, what a factory makes is unknown until it runs.)
   */
  private refuseFactoryTools(wrapper: InstanceWrapper): void {
    if (wrapper.isDependencyTreeStatic() && !wrapper.isTransient) return;
    const token: unknown = wrapper.token;
    if (typeof token !== 'function' || !token.prototype) return;
    const [tool] = this.toolsOn(token.prototype as object);
    if (!tool) return;
    const [methodName, options] = tool;
    const kind = wrapper.isTransient ? 'transient' : 'per-call';
    throw new Error(
      `Realtime tool "${options.name}" is on ${wrapper.name}.${methodName}, but ${wrapper.name} ` +
        `is provided by a ${kind} factory (useFactory): what the factory makes is known only ` +
        `when it runs, so its tools cannot be registered. Provide ${wrapper.name} as a class ` +
        `(${wrapper.name} itself, or useClass; @Injectable({ scope: Scope.REQUEST }) for one ` +
        'instance per call) and inject what the factory makes into it, under a token of its own.',
    );
  }

  private registerMethod(
    wrapper: InstanceWrapper,
    instance: object,
    methodName: string,
    options: RealtimeToolOptions,
  ): void {
    const source = `${wrapper.name}.${methodName}`;
    if (wrapper.isTransient) {
      throw new Error(
        `Realtime tool "${options.name}" is on ${source}, a transient provider: it has no instance ` +
          'a call could use. Make the provider a singleton (the default), or Scope.REQUEST for ' +
          'one instance per call.',
      );
    }
    if (wrapper.isDependencyTreeStatic()) {
      const method = (instance as Record<string, Method>)[methodName];
      this.registry.register(
        options,
        (args, call, signal) => method.call(instance, args, call, signal),
        source,
      );
      return;
    }
    const moduleRef = wrapper.host?.getProviderByKey<ModuleRef>(ModuleRef)?.instance;
    if (!moduleRef) {
      throw new Error(`Realtime tool "${options.name}" (${source}): its module was not found`);
    }
    this.registry.register(
      options,
      async (args, call, signal) => {
        const perCall = await moduleRef.resolve<unknown, Record<string, Method>>(
          wrapper.token,
          contextIdOf(call),
          { strict: true },
        );
        return perCall[methodName](args, call, signal);
      },
      source,
    );
  }
}
