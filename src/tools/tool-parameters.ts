import { z } from 'zod';
import type { JsonSchema, ToolParameters } from './realtime-tool.decorator.js';

export type ParsedArguments = { ok: true; value: unknown } | { ok: false; problems: string };

/** A tool's parameters, ready for use: what the model is shown, and how its arguments are checked. */
export interface CompiledParameters {
  /** The arguments' JSON Schema, as OpenAI function tools take it. */
  jsonSchema: JsonSchema;
  /** Checks (and, for zod, transforms) arguments the model sent; never rejects. */
  parse(args: Record<string, unknown>): Promise<ParsedArguments>;
}

const NO_PARAMETERS = z.object({});

function isZodSchema(parameters: ToolParameters): parameters is z.core.$ZodType<object> {
  return '_zod' in parameters;
}

/**
 * Turns a tool's `parameters` into its JSON Schema and argument check, or throws (at start-up)
 * saying why it cannot be a tool's parameters.
 */
export function compileParameters(parameters: ToolParameters = NO_PARAMETERS): CompiledParameters {
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new Error('parameters must be a zod object schema or a JSON Schema object');
  }
  return isZodSchema(parameters) ? compileZod(parameters) : compileJsonSchema(parameters);
}

function compileZod(schema: z.core.$ZodType<object>): CompiledParameters {
  let converted: JsonSchema;
  try {
    // "input": the model writes what the schema reads (fields with defaults are optional).
    converted = z.toJSONSchema(schema, { io: 'input' });
  } catch (error) {
    throw new Error(`parameters cannot be expressed as JSON Schema: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { $schema: _dialect, ...jsonSchema } = converted;
  requireObjectSchema(jsonSchema);
  return {
    jsonSchema,
    parse: async (args) => {
      const result = await z.safeParseAsync(schema, args);
      return result.success
        ? { ok: true, value: result.data }
        : { ok: false, problems: describeIssues(result.error.issues) };
    },
  };
}

function compileJsonSchema(schema: JsonSchema): CompiledParameters {
  requireObjectSchema(schema);
  // Not validated here: a raw schema's handler gets the object and checks what it needs.
  return { jsonSchema: schema, parse: (args) => Promise.resolve({ ok: true, value: args }) };
}

/** OpenAI function tools take one arguments object; a string or an array at the top is refused. */
function requireObjectSchema(schema: JsonSchema): void {
  if (schema.type !== 'object') {
    throw new Error(
      `parameters must describe an object (JSON Schema "type": "object"), not ${JSON.stringify(schema.type ?? schema)}`,
    );
  }
}

/** `day: Invalid input: expected string, received undefined; hour: ...`, for the model to read. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'arguments'}: ${issue.message}`)
    .join('; ');
}
