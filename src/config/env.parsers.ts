import { z } from 'zod';

/**
 * The environment's value parsers: each trims, applies its default when the variable is unset
 * or empty, and says in one line what it expected and what it got.
 */

export const booleanString = (defaultValue: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return defaultValue;
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${value}"` });
      return z.NEVER;
    });

export const optionalInteger = (min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx): number | undefined => {
      if (value === undefined || value === '') return undefined;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        ctx.addIssue({
          code: 'custom',
          message: `expected a whole number from ${min} to ${max}, got "${value}"`,
        });
        return z.NEVER;
      }
      return parsed;
    });

export const integer = (defaultValue: number, min: number, max: number) =>
  optionalInteger(min, max).transform((value) => value ?? defaultValue);

export const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

export const textWithDefault = (defaultValue: string) =>
  optionalText.transform((value) => value ?? defaultValue);

export const oneOf = <const T extends readonly [string, ...string[]]>(
  values: T,
  defaultValue: T[number],
) =>
  z
    .string()
    .trim()
    .optional()
    .transform((value, ctx): T[number] => {
      if (value === undefined || value === '') return defaultValue;
      if ((values as readonly string[]).includes(value)) return value;
      ctx.addIssue({
        code: 'custom',
        message: `expected one of ${values.join(', ')}, got "${value}"`,
      });
      return z.NEVER;
    });

export const url = (schemes: readonly string[], defaultValue?: string) =>
  optionalText.transform((value, ctx): string | undefined => {
    const candidate = value ?? defaultValue;
    if (candidate === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(candidate);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected a URL, got "${candidate}"` });
      return z.NEVER;
    }
    if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a ${schemes.join(' or ')} URL, got "${candidate}"`,
      });
      return z.NEVER;
    }
    return candidate.replace(/\/+$/, '');
  });

/** A variable holding JSON that `schema` checks (its problems by path, on one line); unset: `unset()`. */
export function jsonText<S extends z.ZodType>(schema: S, unset: () => NoInfer<z.output<S>>) {
  return optionalText.transform((value, ctx): z.output<S> => {
    if (value === undefined) return unset();
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
      return z.NEVER;
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      ctx.addIssue({
        code: 'custom',
        message: result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
      return z.NEVER;
    }
    return result.data;
  });
}

/**
 * A URL of one of `protocols` with a host, or undefined when it is not one: for the URLs that
 * may carry a password (DATABASE_URL, REDIS_URL), whose value an error never echoes.
 */
export function urlWithHost(value: string, protocols: readonly string[]): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return undefined;
  }
  return protocols.includes(parsed.protocol) && parsed.hostname ? parsed : undefined;
}
