import {
  SETTING_FIELDS,
  SETTING_GROUPS,
  VARIABLE_OF,
  type SettingKind,
  type SettingVariable,
} from './setting-fields.js';

/**
 * Settings given in code, turned into the strings their variables would hold, so that one schema
 * (env.schema.ts) checks both. What cannot be written as such a string (a wrong type, an unknown
 * name) is a problem named by its path here; the rest is left to the schema.
 */
export interface SettingsAsEnv {
  env: Record<string, string>;
  problems: string[];
}

/** Fields of `BridgeSettings` that say where the rest comes from, not settings themselves. */
const SOURCE_FIELDS = new Set(['env', 'envFile']);

/** Given in the module's own options, never by a factory: they shape the module. */
const STATIC_OPTIONS = new Set(['surfaces', 'settingsResolver', 'toolResolver']);

export function settingsToEnv(settings: Record<string, unknown>): SettingsAsEnv {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if (SOURCE_FIELDS.has(key) || value === undefined) continue;
    const variable = VARIABLE_OF.get(key);
    if (variable) write(env, problems, variable, value);
    else if (SETTING_GROUPS.has(key)) writeGroup(env, problems, key, value);
    else problems.push(`${key}: ${unknown(key)}`);
  }
  return { env, problems };
}

/** A group's fields (`openai`), and the groups within it (`openai.azure`). */
function writeGroup(
  env: Record<string, string>,
  problems: string[],
  group: string,
  value: unknown,
): void {
  if (!isPlainObject(value)) {
    problems.push(`${group}: expected an object, got ${describe(value)}`);
    return;
  }
  for (const [field, fieldValue] of Object.entries(value)) {
    const path = `${group}.${field}`;
    const variable = VARIABLE_OF.get(path);
    const inner = SETTING_GROUPS.has(path);
    if (!variable && !inner) problems.push(`${path}: ${unknown(field)}`);
    else if (fieldValue === undefined) continue;
    else if (variable) write(env, problems, variable, fieldValue);
    else writeGroup(env, problems, path, fieldValue);
  }
}

function unknown(key: string): string {
  if (key === 'settings') {
    return 'settings by environment-variable name are replaced by the grouped options (openai.voice for OPENAI_VOICE, ...; docs/configuration.md lists them)';
  }
  if (STATIC_OPTIONS.has(key)) {
    return 'give it to forRootAsync itself, beside useFactory: it decides which routes and providers exist, before the factory runs';
  }
  if (Object.hasOwn(SETTING_FIELDS, key)) {
    return `not an option of the bridge; in code it is ${SETTING_FIELDS[key as SettingVariable].path}`;
  }
  return 'not an option of the bridge (docs/configuration.md lists them)';
}

function write(
  env: Record<string, string>,
  problems: string[],
  variable: SettingVariable,
  value: unknown,
): void {
  const { path, kind } = SETTING_FIELDS[variable];
  const text = asText(kind, value);
  if (typeof text === 'string') env[variable] = text;
  else problems.push(`${path}: ${text.problem}`);
}

/** The value as its variable's string, or what is wrong with it. */
function asText(kind: SettingKind, value: unknown): string | { problem: string } {
  switch (kind) {
    case 'text':
      if (typeof value !== 'string')
        return { problem: `expected a string, got ${describe(value)}` };
      // Empty means "unset" in the environment; in code, leaving the field out says that.
      return value.trim()
        ? value
        : { problem: 'expected a non-empty string (leave it out for the default)' };
    case 'number':
      return typeof value === 'number'
        ? String(value)
        : { problem: `expected a number, got ${describe(value)}` };
    case 'boolean':
      return typeof value === 'boolean'
        ? String(value)
        : { problem: `expected true or false, got ${describe(value)}` };
    case 'list':
      return asList(value);
    case 'object':
      return isPlainObject(value)
        ? JSON.stringify(value)
        : { problem: `expected an object, got ${describe(value)}` };
  }
}

function asList(value: unknown): string | { problem: string } {
  if (!Array.isArray(value))
    return { problem: `expected an array of strings, got ${describe(value)}` };
  const items: unknown[] = value;
  const bad = items.findIndex((item) => typeof item !== 'string' || item.includes(','));
  if (bad >= 0) {
    return {
      problem: `item ${bad}: expected a string without commas, got ${describe(items[bad])}`,
    };
  }
  return items.join(',');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The type of a value, never the value: a secret put in the wrong field must not be echoed. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const VARIABLE_PREFIX = /^([A-Z][A-Z0-9_]+): /;
const VARIABLE_NAME = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

/**
 * The schema's problems, named as the user wrote the setting: by its path when it came from the
 * options (or when only options were given), else by its variable. With options alone, the
 * variables a message mentions (`... with REDIS_URL`) become paths too.
 */
export function nameProblems(
  problems: readonly string[],
  fromOptions: ReadonlySet<string>,
  optionsOnly: boolean,
): string[] {
  const pathOf = (name: string) =>
    Object.hasOwn(SETTING_FIELDS, name) ? SETTING_FIELDS[name as SettingVariable].path : name;
  return problems.map((problem) => {
    const match = VARIABLE_PREFIX.exec(problem);
    if (!match || !Object.hasOwn(SETTING_FIELDS, match[1])) return problem;
    const name = match[1];
    const head = optionsOnly || fromOptions.has(name) ? pathOf(name) : name;
    const rest = problem.slice(match[0].length);
    return `${head}: ${optionsOnly ? rest.replace(VARIABLE_NAME, pathOf) : rest}`;
  });
}
