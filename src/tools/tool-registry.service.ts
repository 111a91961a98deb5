import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { CallContext } from '../call/call-context.js';
import type { RealtimeTool } from '../realtime/realtime-outbound.js';
import { REALTIME_TOOL_METADATA, type RealtimeToolOptions } from './realtime-tool.decorator.js';

export type ToolHandler = (args: Record<string, unknown>, call: CallContext) => unknown;

export interface RegisteredTool {
  definition: RealtimeToolOptions;
  handler: ToolHandler;
}

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Every tool the model may call: methods decorated with `@RealtimeTool` on any provider of any
 * module (found once at start-up with Nest's DiscoveryService), plus the bridge's own built-ins
 * registered in code.
 */
@Injectable()
export class ToolRegistry implements OnModuleInit {
  private readonly log = new Logger(ToolRegistry.name);
  private readonly tools = new Map<string, RegisteredTool>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      // Request-scoped providers have no instance at start-up; tools live on singletons.
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const options = this.reflector.get<RealtimeToolOptions | undefined>(
          REALTIME_TOOL_METADATA,
          method as (...args: unknown[]) => unknown,
        );
        if (options) {
          this.register(options, (args, call) =>
            (method as ToolHandler).call(instance, args, call),
          );
        }
      }
    }
  }

  register(definition: RealtimeToolOptions, handler: ToolHandler): void {
    if (!TOOL_NAME.test(definition.name)) {
      throw new Error(`Realtime tool name "${definition.name}" must match ${TOOL_NAME}`);
    }
    if (this.tools.has(definition.name)) {
      throw new Error(`Two Realtime tools are named "${definition.name}"`);
    }
    this.tools.set(definition.name, { definition, handler });
    this.log.log(`tool ${definition.name} registered`);
  }

  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  /** The tools, in the shape `session.update` lists them. */
  sessionTools(): RealtimeTool[] {
    return [...this.tools.values()].map(({ definition }) => ({
      type: 'function' as const,
      name: definition.name,
      description: definition.description,
      parameters: definition.parameters ?? { type: 'object', properties: {} },
    }));
  }
}
