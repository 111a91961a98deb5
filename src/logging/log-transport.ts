import { createRequire } from 'node:module';
import type { TransportSingleOptions } from 'pino';

/** Finds a module's entry file; throws when it is not installed. */
export type ModuleResolver = (specifier: string) => string;

const resolveFromHere: ModuleResolver = (specifier) =>
  createRequire(import.meta.url).resolve(specifier);

export interface LogTransport {
  /** pino's transport: pino-pretty, or none for JSON lines on stdout. */
  transport?: TransportSingleOptions;
  /** Why NODE_ENV=development still logs JSON: one line for the operator. */
  warning?: string;
}

/**
 * Pretty logs under NODE_ENV=development, when pino-pretty is there. It is a devDependency:
 * installed as a package, or in the image (`npm prune --omit=dev`), it is absent, and pino
 * would fail the whole start on a transport it cannot find; logging JSON instead costs nothing.
 * The target is the path resolved here, so what pino loads is what this check found.
 */
export function logTransport(
  nodeEnv: string | undefined,
  resolve: ModuleResolver = resolveFromHere,
): LogTransport {
  if (nodeEnv !== 'development') return {};
  let target: string;
  try {
    target = resolve('pino-pretty');
  } catch {
    return {
      warning:
        'NODE_ENV=development asks for pretty logs, but pino-pretty is not installed ' +
        '(a devDependency): logging JSON. Install pino-pretty for pretty logs.',
    };
  }
  return { transport: { target, options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' } } };
}
