import { Injectable, Logger } from '@nestjs/common';
import type { CallContext } from '../call/call-context.js';
import type {
  JsonSchema,
  NoParameters,
  RealtimeToolOptions,
  ToolArguments,
  ToolHandler,
  ToolParameters,
} from './realtime-tool.decorator.js';
import { compileParameters } from './tool-parameters.js';
import { ToolBudget } from './tool-budget.js';
import type { RealtimeTool } from '../realtime/realtime-outbound.js';

/** Arguments the model sent that do not match the tool's schema; the message is for the model. */
export class InvalidToolArgumentsError extends Error {
  constructor(tool: string, problems: string) {
    super(
      `invalid arguments for ${tool}: ${problems}. ` +
        `Call ${tool} again with arguments that match its parameters.`,
    );
  }
}

export interface RegisteredTool {
  name: string;
  description: string;
  /** Where it was declared (`StoreHours.hours`), for start-up errors and logs. */
  source: string;
  parameters: JsonSchema;
  /**
   * The bridge's end_call and transfer_call: the handler ends or transfers the call, and its
   * output tells the model to say the last sentence (CallEnding takes the response that follows
   * the output as that sentence rather than asking for one).
   */
  announcesEnding?: boolean;
  /**
   * Validates the arguments, then runs the handler. Rejects with InvalidToolArgumentsError
   * (the handler not called) or with whatever the handler threw.
   */
  invoke(args: Record<string, unknown>, call: CallContext, signal: AbortSignal): Promise<unknown>;
}

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Every tool the model may call: `@RealtimeTool` methods (registered by the ToolExplorer at
 * start-up) and the bridge's own built-ins (registered in code). Anything that cannot work as a
 * tool is refused here, at start-up, with a message naming it.
 */
@Injectable()
export class ToolRegistry {
  private readonly log = new Logger(ToolRegistry.name);
  private readonly tools = new Map<string, RegisteredTool>();
  private readonly budget = new ToolBudget();

  register<P extends ToolParameters = NoParameters>(
    options: RealtimeToolOptions<P>,
    handler: ToolHandler<P>,
    source = 'the bridge',
    { announcesEnding = false }: Pick<RegisteredTool, 'announcesEnding'> = {},
  ): void {
    const { name, description } = options;
    if (typeof name !== 'string' || !TOOL_NAME.test(name)) {
      throw new Error(
        `Realtime tool name ${JSON.stringify(name)} (${source}) must match ${TOOL_NAME}`,
      );
    }
    const existing = this.tools.get(name);
    if (existing) {
      throw new Error(
        `Two Realtime tools are named "${name}": ${existing.source} and ${source}; tool names must be unique`,
      );
    }
    if (typeof description !== 'string' || !description.trim()) {
      throw new Error(
        `Realtime tool "${name}" (${source}) needs a description: the model reads it`,
      );
    }
    let compiled;
    try {
      compiled = compileParameters(options.parameters);
    } catch (error) {
      throw new Error(`Realtime tool "${name}" (${source}): ${(error as Error).message}`, {
        cause: error,
      });
    }
    const parameters = compiled.jsonSchema;
    this.budget.admit({ type: 'function', name, description, parameters }, source);
    this.tools.set(name, {
      name,
      description,
      source,
      parameters,
      ...(announcesEnding ? { announcesEnding } : {}),
      invoke: async (args, call, signal) => {
        const parsed = await compiled.parse(args);
        if (!parsed.ok) throw new InvalidToolArgumentsError(name, parsed.problems);
        // parse() ran P's own schema (or, for a raw JSON Schema, checked for an object), so the
        // value is what P produces: the one place the handler's argument type is asserted.
        return handler(parsed.value as ToolArguments<P>, call, signal);
      },
    });
    this.log.log(`tool ${name} registered (${source})`);
  }

  get(name: string): RegisteredTool | undefined {
    return this.tools.get(name);
  }

  /** Every registered tool's name, in registration order. */
  names(): string[] {
    return [...this.tools.keys()];
  }

  /** The tools (all, or those named in `only`), in the shape `session.update` lists them. */
  sessionTools(only?: readonly string[]): RealtimeTool[] {
    const tools = [...this.tools.values()].filter((tool) => !only || only.includes(tool.name));
    return tools.map((tool) => ({
      type: 'function' as const,
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters,
    }));
  }
}
