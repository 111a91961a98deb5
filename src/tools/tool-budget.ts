import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import {
  MAX_TOOL_DEFINITION_BYTES,
  MAX_TOOLS,
  MAX_TOOLS_BYTES,
  readable,
} from '../realtime/session-bounds.js';

/** How many of the largest definitions the total's refusal names: enough to say where to cut. */
const LARGEST_NAMED = 3;

/**
 * What the registered tools add to every `session.update`, held to MAX_TOOLS,
 * MAX_TOOL_DEFINITION_BYTES and MAX_TOOLS_BYTES. Checked as each tool registers, so that a tool
 * that cannot be sent is refused at start-up, naming it, rather than by OpenAI on every call.
 */
export class ToolBudget {
  private readonly sizes = new Map<string, { source: string; bytes: number }>();
  private total = 0;

  /** Throws if one more tool would break a bound (a message naming it); else counts it. */
  admit(definition: RealtimeFunctionTool & { name: string }, source: string): void {
    const tool = `Realtime tool "${definition.name}" (${source})`;
    if (this.sizes.size >= MAX_TOOLS) {
      throw new Error(
        `${tool} would be tool number ${MAX_TOOLS + 1}: at most ${MAX_TOOLS} tools may be ` +
          "registered (MAX_TOOLS), the bridge's end_call and transfer_call included",
      );
    }
    const bytes = definitionBytes(definition, tool);
    if (bytes > MAX_TOOL_DEFINITION_BYTES) {
      throw new Error(
        `${tool}: its definition (name, description and parameters as JSON) is ` +
          `${readable(bytes)} bytes, over MAX_TOOL_DEFINITION_BYTES ` +
          `(${readable(MAX_TOOL_DEFINITION_BYTES)})`,
      );
    }
    if (this.total + bytes > MAX_TOOLS_BYTES) {
      throw new Error(
        `${tool} would bring the registered tools' definitions to ${readable(this.total + bytes)} ` +
          `bytes, over MAX_TOOLS_BYTES (${readable(MAX_TOOLS_BYTES)}), which every call offered ` +
          `them all sends in its session.update; the largest: ${this.largest()}`,
      );
    }
    this.sizes.set(definition.name, { source, bytes });
    this.total += bytes;
  }

  private largest(): string {
    return [...this.sizes]
      .sort(([, a], [, b]) => b.bytes - a.bytes)
      .slice(0, LARGEST_NAMED)
      .map(([name, { source, bytes }]) => `${name} (${source}, ${readable(bytes)} bytes)`)
      .join(', ');
  }
}

/**
 * The definition's size as JSON, as the session will carry it. A raw JSON Schema with a cycle
 * or a BigInt would otherwise throw only when a call's session.update is written.
 */
function definitionBytes(definition: RealtimeFunctionTool, tool: string): number {
  try {
    return Buffer.byteLength(JSON.stringify(definition));
  } catch (error) {
    throw new Error(`${tool}: its definition cannot be sent as JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
