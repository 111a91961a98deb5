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
      // Request-scoped class providers have a prototype instance at start-up; factory and
      // value providers without one cannot be inspected, and aliases would list tools twice.
      const instance: unknown = wrapper.instance;
      if (wrapper.isAlias || !instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[methodName];
        if (typeof method !== 'function') continue;
        const options = this.reflector.get<RealtimeToolOptions | undefined>(
          REALTIME_TOOL_METADATA,
          method as Method,
        );
        if (options) this.registerMethod(wrapper, instance, methodName, options);
      }
    }
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
